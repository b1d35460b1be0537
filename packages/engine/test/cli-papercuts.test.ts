import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

  // a 140 KB input was printed whole
  test('runs show cuts a long input with a hint; --full prints it whole', async () => {
    const db = join(dir, 'show.db');
    const big = 'x'.repeat(140_000);
    const data = join(dir, 'big.json');
    await writeFile(data, JSON.stringify({ note: big }));
    const run = await runCli(['run', workflow, '--db', db, '--data', `@${data}`]);
    assert.equal(run.code, 0, run.stderr);
    const id = /pilotage runs show (\S+)/.exec(run.stdout + run.stderr)?.[1];
    assert.ok(id !== undefined, run.stdout + run.stderr);
    const shown = await runCli(['runs', 'show', id, '--db', db]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(shown.stdout.length < 5000, `printed ${shown.stdout.length} characters`);
    assert.match(shown.stdout, /… \(137 KiB in all; --full shows it whole\)/);
    const full = await runCli(['runs', 'show', id, '--db', db, '--full']);
    assert.ok(full.stdout.includes(big));
  });

  // there was no way to give it one
  test('component test --workspace DIR runs the component in that folder and leaves it there', async () => {
    const workspace = join(dir, 'ws');
    await mkdir(workspace);
    await writeFile(join(workspace, 'input.txt'), 'from the user');
    const component = join(dir, 'reader.yaml');
    await writeFile(
      component,
      'apiVersion: pilotage.dev/v1\nkind: Component\nname: reader\nversion: 1.0.0\ncommand: [sh, -c, "cat input.txt > output.txt"]\n',
    );
    const result = await runCli(['component', 'test', component, '--workspace', workspace]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(await readFile(join(workspace, 'output.txt'), 'utf8'), 'from the user');
    const missing = await runCli(['component', 'test', component, '--workspace', join(dir, 'nowhere')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--workspace .*nowhere: not a folder; create it first/);
  });
});
