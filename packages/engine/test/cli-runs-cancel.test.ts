import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliResult } from './support/cli.js';
import { eventually, processesOfRun } from './support/harness.js';
import { startPostgresUnlessMissing, type PostgresServer } from './support/postgres.js';
import { startServe, stopServe, type ServeProcess } from './support/serve-process.js';

const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: slow
stages:
  - name: wait
    actions:
      - { name: wait, run: "sleep 60" }
  - name: after
    actions:
      - { name: after, run: "echo never" }
`;

const ME = userInfo().username;

/** The id of the one run in store `db`, through `runs list --json` (another process). */
async function onlyRunId(db: string): Promise<string> {
  const listed = await runCli(['runs', 'list', '--db', db, '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const { runs } = JSON.parse(listed.stdout) as { runs: { id: string }[] };
  assert.equal(runs.length, 1);
  return runs[0]!.id;
}

describe('runs cancel on a local store: recorded in the store, acted on by the pilotage run that carries the run', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cancel-'));
    await writeFile(join(dir, 'workflow.yaml'), WORKFLOW);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('a cancel from another process stops the component and ends the run cancelled; a second cancel is refused', async () => {
    const db = join(dir, 'cancel.db');
    let cancelled: Promise<{ id: string; result: CliResult }> | undefined;
    const started = Date.now();
    const run = await runCli(['run', 'workflow.yaml', '--db', db, '--plain'], {
      cwd: dir,
      env: { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces') },
      onStdout: (text) => {
        if (cancelled !== undefined || !/wait\/wait running/.test(text)) return;
        cancelled = (async () => {
          const id = await onlyRunId(db);
          assert.equal((await processesOfRun(id)).length > 0, true, 'the component runs before the cancel');
          return { id, result: await runCli(['runs', 'cancel', id, '--db', db], { cwd: tmpdir() }) };
        })();
      },
    });
    assert.ok(cancelled !== undefined, `the action never ran:\n${run.stdout}\n${run.stderr}`);
    const { id, result } = await cancelled;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`slow #1 \\(run ${id}\\) cancelled: cancelled by ${ME}`));
    // the pilotage run process ended the run (not its 60 s sleep), and says why
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.ok(Date.now() - started < 30_000, 'ended by the cancel, not by the component');
    assert.match(run.stdout, new RegExp(`wait/wait cancelled \\(.*cancelled by ${ME}\\)`));
    assert.match(run.stdout, /run slow #1 cancelled/);
    assert.doesNotMatch(run.stdout, /after\/after (starting|running|succeeded)/);
    assert.deepEqual(await processesOfRun(id), [], 'nothing of the run is left running');

    const shown = await runCli(['runs', 'show', id, '--db', db, '--json']);
    assert.equal((JSON.parse(shown.stdout) as { run: { state: string } }).run.state, 'cancelled');
    const again = await runCli(['runs', 'cancel', id, '--db', db]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, new RegExp(`run ${id} has already ended \\(cancelled\\)`));
  });

  test('an unknown run is named in the error', async () => {
    const result = await runCli(['runs', 'cancel', '01NOSUCHRUN0000000000000000', '--db', join(dir, 'cancel.db')]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /run 01NOSUCHRUN0000000000000000 not found/);
  });
});

describe('runs cancel on a PostgreSQL store: the holder hears of it at once', () => {
  let server: PostgresServer | undefined;
  let dir: string;
  let serve: ServeProcess | undefined;
  before(async () => {
    // without PostgreSQL (outside CI) each test skips itself
    server = await startPostgresUnlessMissing();
    if (server !== undefined) dir = await mkdtemp(join(tmpdir(), 'pilotage-cancel-pg-'));
  });
  after(async () => {
    if (serve !== undefined) await stopServe(serve);
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('a serve replica whose heartbeat is a minute away stops the run within the command wait', async (t) => {
    if (server === undefined) return t.skip('postgres not installed');
    const db = await server.createDatabase('cancel');
    // only the notification can reach it in time: its next heartbeat is 60 s away
    serve = await startServe(dir, { PILOTAGE_DB: db, PILOTAGE_HEARTBEAT: '60s', PILOTAGE_LEASE_TTL: '120s' });
    assert.ok((await serve.api('POST', '/v1/workflows', WORKFLOW)).ok);
    const started = await serve.api('POST', '/v1/workflows/slow/runs', { data: {} });
    const { id } = (await started.json()) as { id: string };
    await eventually(
      async () => ((await processesOfRun(id)).length > 0 ? true : undefined),
      30_000,
      'the component to run',
    );
    const result = await runCli(['runs', 'cancel', id, '--db', db]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`slow #1 \\(run ${id}\\) cancelled: cancelled by ${ME}`));
    await eventually(
      async () => ((await processesOfRun(id)).length === 0 ? true : undefined),
      10_000,
      'the component to stop',
    );
  });
});
