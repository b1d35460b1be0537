import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import { runCli } from './support/cli.js';

// build leaves a file in the run's workspace; test needs it, and a flag file the test creates
const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: flaky
inputs:
  type: object
  required: [ledger, flag]
  properties: { ledger: { type: string }, flag: { type: string } }
stages:
  - name: build
    actions:
      - name: build
        with: { ledger: "\${{ inputs.ledger }}" }
        run: 'echo build >> "$CO_INPUT_LEDGER" && echo made > artifact.txt'
  - name: test
    actions:
      - name: test
        with: { ledger: "\${{ inputs.ledger }}", flag: "\${{ inputs.flag }}" }
        run: 'echo test >> "$CO_INPUT_LEDGER" && test -f artifact.txt && test -f "$CO_INPUT_FLAG"'
`;

/**
 * `pilotage runs retry` without a server: the rerun is carried by the command itself on the
 * local store, from the recorded plan, reusing what succeeded in a copy of the kept workspace.
 * Real processes, a real SQLite file, the built CLI.
 */
describe('runs retry on a local store', () => {
  let dir: string;
  let db: string;
  let ledger: string;
  let flag: string;
  let failedId: string;
  // workspaces kept (the tests' default is 0), in this test's own folder
  const env = (): Record<string, string> => ({
    PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces'),
    PILOTAGE_WORKSPACE_RETENTION: '1h',
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-retry-'));
    db = join(dir, 'pilotage.db');
    ledger = join(dir, 'ledger');
    flag = join(dir, 'flag');
    await writeFile(join(dir, 'flaky.yaml'), WORKFLOW);
    const first = await runCli(
      ['run', 'flaky.yaml', '--db', db, '--plain', '--input', `ledger=${ledger}`, '--input', `flag=${flag}`],
      { cwd: dir, env: env() },
    );
    assert.equal(first.code, 1, `the first run fails at test: ${first.stdout}${first.stderr}`);
    const said = /pilotage runs retry (\S+)\)/.exec(`${first.stdout}${first.stderr}`);
    assert.ok(said !== null, `its summary says how to retry it here: ${first.stderr}`);
    failedId = said[1]!;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('from the failed action: what succeeded is reused, in a copy of the workspace; exit code = result', async () => {
    await writeFile(flag, '');
    const retried = await runCli(['runs', 'retry', failedId, '--db', db, '--plain'], { cwd: dir, env: env() });
    assert.equal(retried.code, 0, `${retried.stdout}${retried.stderr}`);
    assert.deepEqual((await readFile(ledger, 'utf8')).trim().split('\n'), ['build', 'test', 'test']);
    const store = await openStore({ url: db });
    try {
      const [latest] = await store.runs.list({ limit: 1 });
      assert.ok(latest !== undefined && latest.id !== failedId);
      assert.equal(latest.state, 'succeeded');
      assert.deepEqual(latest.trigger.kind, 'rerun');
      assert.deepEqual(latest.trigger.details, { of: failedId, from: 'failed' });
      assert.equal(latest.workspace.from, failedId, 'started from a copy of the failed run’s workspace');
      const tasks = await store.taskRuns.listByRun(latest.id);
      const build = tasks.find((t) => t.action === 'build')!;
      assert.equal(build.state, 'succeeded');
      assert.equal(build.reason, `reused from run ${failedId}`);
      assert.equal(tasks.find((t) => t.action === 'test')!.state, 'succeeded');
    } finally {
      await store.close();
    }
  });

  test('from the start everything runs again; a run that succeeded has nothing failed to rerun', async () => {
    const store = await openStore({ url: db });
    const [succeeded] = await store.runs.list({ limit: 1 });
    await store.close();
    const nothing = await runCli(['runs', 'retry', succeeded!.id, '--db', db], { cwd: dir, env: env() });
    assert.notEqual(nothing.code, 0);
    assert.match(nothing.stderr, /nothing failed to rerun; rerun from the start/);
    const again = await runCli(['runs', 'retry', succeeded!.id, '--db', db, '--from', 'start', '--plain'], {
      cwd: dir,
      env: env(),
    });
    assert.equal(again.code, 0, `${again.stdout}${again.stderr}`);
    assert.deepEqual((await readFile(ledger, 'utf8')).trim().split('\n'), ['build', 'test', 'test', 'build', 'test']);
    const bad = await runCli(['runs', 'retry', succeeded!.id, '--db', db, '--from', 'middle'], { cwd: dir });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--from must be failed or start, got "middle"/);
    const unknown = await runCli(['runs', 'retry', 'no-such-run', '--db', db], { cwd: dir });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /run no-such-run not found/);
  });
});
