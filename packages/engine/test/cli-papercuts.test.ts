import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from './support/cli.js';

const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: papercut
stages:
  - name: s
    actions:
      - name: a
        run: "true"
`;

describe('CLI papercuts of a new user (issue 12)', { concurrency: false }, () => {
  let dir = '';
  let workflow = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-papercuts-'));
    workflow = join(dir, 'workflow.yaml');
    await writeFile(workflow, WORKFLOW);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  // it wrote the whole outbox history of the store
  test('run --events FILE.jsonl writes only this run’s events', async () => {
    const db = join(dir, 'events.db');
    const first = await runCli(['run', workflow, '--db', db]);
    assert.equal(first.code, 0, first.stderr);
    const events = join(dir, 'events.jsonl');
    const second = await runCli(['run', workflow, '--db', db, '--events', events]);
    assert.equal(second.code, 0, second.stderr);
    const listed = await runCli(['runs', 'list', '--db', db, '--json']);
    const ids = listed.stdout
      .trim()
      .split('\n')
      .flatMap((line) => {
        const value = JSON.parse(line) as { id?: string; runs?: { id: string }[] };
        return value.runs ? value.runs.map((r) => r.id) : value.id ? [value.id] : [];
      });
    assert.equal(ids.length, 2, listed.stdout);
    const lines = (await readFile(events, 'utf8')).trim().split('\n');
    assert.ok(lines.length >= 4, `queued, started, task started and finished, run finished: ${lines.length}`);
    const [older, newer] = ids.sort();
    for (const line of lines) {
      assert.ok(line.includes(newer!), `an event of the second run: ${line.slice(0, 200)}`);
      assert.ok(!line.includes(older!), 'no event of the first run');
    }
  });

  // it said "workflow file.yaml not found; apply it first"
  test('with PILOTAGE_SERVER set, run FILE says a server is set and how to run the file locally', async () => {
    const result = await runCli(['run', workflow], { env: { PILOTAGE_SERVER: 'http://127.0.0.1:9' } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /PILOTAGE_SERVER is set, so run starts a workflow stored on that server by its name/);
    assert.match(result.stderr, /run it here with --db FILE/);
    assert.match(result.stderr, /pilotage workflow apply /);
  });
});
