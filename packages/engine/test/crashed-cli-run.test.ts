import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { endAbandonedRuns } from '../src/engine/abandoned-runs.js';
import { createRunEventBuilder } from '../src/events/run-event-builder.js';
import { openStore } from '../src/store/open-store.js';
import type { NewReplica, Store } from '../src/store/types.js';
import { runCli, type CliResult } from './support/cli.js';
import { newRun, newTaskRun } from './store-suite/fixtures.js';

/** Whether process `pid` still runs (a zombie does not: PID 1 here never reaps orphans). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

describe('a pilotage run killed with kill -9: a later runs list or pilotage run on the store ends its run', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-crashed-'));
    // `nap` writes its pid, then sleeps long: it is what the killed process leaves running
    await writeFile(
      join(dir, 'slow.yaml'),
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: slow
stages:
  - name: one
    actions:
      - { name: quick, run: echo quick }
  - name: two
    actions:
      - name: nap
        run: |
          echo $$ > "$CO_WORKSPACE/../nap-$CO_RUN_ID.pid"
          exec sleep 300
`,
    );
    await writeFile(
      join(dir, 'hello.yaml'),
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: hello
stages:
  - name: one
    actions:
      - { name: hi, run: echo hi }
`,
    );
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** `pilotage run slow.yaml` on store `db`, killed with SIGKILL once `nap` runs; resolves with the run's id and nap's pid. */
  async function killedRun(db: string): Promise<{ runId: string; napPid: number }> {
    const run: CliResult = await runCli(['run', 'slow.yaml', '--db', db, '--plain'], {
      cwd: dir,
      env: { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces'), PILOTAGE_WORKSPACE_RETENTION: '24h' },
      onStdout: (text, kill) => {
        if (/two\/nap running/.test(text)) kill('SIGKILL');
      },
    });
    assert.equal(run.code, null, `killed: ${run.stdout}${run.stderr}`);
    const store = await openStore({ url: db });
    try {
      const [record] = await store.runs.list({});
      assert.equal(record?.state, 'running', 'left running by the killed process');
      const pidFile = join(dir, 'workspaces', `nap-${record.id}.pid`);
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) || undefined;
        if (pid === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(pid !== undefined && (await running(pid)), 'nap outlived its engine');
      return { runId: record.id, napPid: pid };
    } finally {
      await store.close();
    }
  }

  test('runs list ends it errored with the reason, stops what it left running and keeps its workspace', async () => {
    const db = join(dir, 'list.db');
    const { runId, napPid } = await killedRun(db);
    const env = { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces'), PILOTAGE_WORKSPACE_RETENTION: '24h' };
    const listed = await runCli(['runs', 'list', '--db', db, '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, new RegExp(`ended run ${runId} \\(slow #1\\) as errored`));
    const [run] = (JSON.parse(listed.stdout) as { runs: any[] }).runs;
    assert.equal(run.state, 'errored');
    assert.match(
      run.reason,
      /the pilotage run process carrying it ended without finishing it \(pid \d+ on .*: killed or crashed\)/,
    );
    assert.equal(run.workspace.state, 'kept');
    assert.equal(await running(napPid), false, 'nap was stopped');

    const shown = await runCli(['runs', 'show', runId, '--db', db, '--json'], { env });
    const { tasks } = JSON.parse(shown.stdout) as { tasks: any[] };
    assert.deepEqual(
      tasks.map((t) => [t.action, t.state]),
      [
        ['quick', 'succeeded'],
        ['nap', 'errored'],
      ],
    );
    assert.match(tasks[1].reason, /^lost: the pilotage run process carrying it ended/);
    assert.doesNotMatch(shown.stderr, /ended run/, 'once');
  });

  test('a run its process was waiting for (queued behind maxRuns) ends too; the run ahead of it goes on', async () => {
    const db = join(dir, 'queued.db');
    await writeFile(
      join(dir, 'capped.yaml'),
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: capped
maxRuns: 1
stages:
  - name: one
    actions:
      - { name: nap, run: exec sleep 300 }
`,
    );
    const env = { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces') };
    let stopFirst: ((signal: NodeJS.Signals) => void) | undefined;
    let firstRuns!: () => void;
    const firstRunning = new Promise<void>((resolve) => (firstRuns = resolve));
    const first = runCli(['run', 'capped.yaml', '--db', db, '--plain'], {
      cwd: dir,
      env,
      onStdout: (text, kill) => {
        stopFirst = kill;
        if (/one\/nap running/.test(text)) firstRuns();
      },
    });
    try {
      await firstRunning;
      // the second run waits for the first (maxRuns: 1): its process is killed while it waits
      const second = await runCli(['run', 'capped.yaml', '--db', db, '--plain'], {
        cwd: dir,
        env,
        onStdout: (text, kill) => {
          if (/run capped #2 queued/.test(text)) kill('SIGKILL');
        },
      });
      assert.equal(second.code, null, `killed: ${second.stdout}${second.stderr}`);
      const listed = await runCli(['runs', 'list', '--db', db, '--json'], { env });
      assert.equal(listed.code, 0, listed.stderr);
      const runs = (JSON.parse(listed.stdout) as { runs: any[] }).runs;
      const byNumber = new Map(runs.map((r) => [r.number, r]));
      assert.equal(byNumber.get(2)?.state, 'errored', JSON.stringify(runs));
      assert.match(
        byNumber.get(2)?.reason ?? '',
        /the pilotage run process waiting to carry it ended before it could start \(pid \d+ on .*: killed or crashed\)/,
      );
      assert.match(listed.stderr, /ended run \S+ \(capped #2\) as errored/);
      assert.equal(byNumber.get(1)?.state, 'running', 'the run ahead of it, whose process lives, goes on');
    } finally {
      stopFirst?.('SIGINT');
      const ended = await first;
      assert.equal(ended.code, 130, `${ended.stdout}${ended.stderr}`);
    }
  });

  test('a later pilotage run ends it first, then runs its own workflow', async () => {
    const db = join(dir, 'run.db');
    const { runId, napPid } = await killedRun(db);
    const later = await runCli(['run', 'hello.yaml', '--db', db, '--plain'], {
      cwd: dir,
      env: { PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces'), PILOTAGE_WORKSPACE_RETENTION: '24h' },
    });
    assert.equal(later.code, 0, later.stderr);
    assert.match(later.stderr, new RegExp(`ended run ${runId} \\(slow #1\\) as errored`));
    assert.match(later.stdout, /run hello #1 succeeded/);
    assert.equal(await running(napPid), false, 'nap was stopped');
    const store = await openStore({ url: db });
    try {
      assert.equal((await store.runs.get(runId))?.state, 'errored');
    } finally {
      await store.close();
    }
  });
});

describe('endAbandonedRuns: only the runs of dead pilotage run processes', () => {
  const replica = (id: string, url: string | null): NewReplica => ({
    id,
    engineId: 'pilotage-test',
    host: 'elsewhere',
    pid: 4321,
    process: null,
    version: '0.1.0',
    url,
  });
  const held = async (store: Store, owner: string): Promise<string> => {
    const run = await store.runs.create(newRun('held'));
    const [claimed] = await store.leases.claimQueued(owner, { limit: 1, only: [run.id] });
    assert.equal(claimed?.run.id, run.id);
    assert.ok(await store.runs.transition(run.id, ['queued'], 'running', Date.now()));
    return run.id;
  };

  test('a dead CLI replica’s runs end (child runs and task runs too); a live one’s and a dead serve’s stay', async () => {
    const store = await openStore({ url: ':memory:' });
    try {
      await store.replicas.register(replica('cli-dead', null), 60_000);
      await store.replicas.register(replica('cli-live', null), 60_000);
      await store.replicas.register(replica('serve-dead', 'http://10.0.0.1:8080'), 60_000);
      const abandoned = await held(store, 'cli-dead');
      const task = await store.taskRuns.create(newTaskRun(abandoned));
      const live = await held(store, 'cli-live');
      const serves = await held(store, 'serve-dead');
      await store.replicas.release('cli-dead');
      await store.replicas.release('serve-dead');
      const events = createRunEventBuilder('http://127.0.0.1');
      const deps = { store, events, clock: Date.now, workspaceRetentionMs: 3_600_000, warn: assert.fail };
      const ended = await endAbandonedRuns(deps);
      assert.deepEqual(
        ended.map((r) => r.id),
        [abandoned],
      );
      assert.equal((await store.runs.get(abandoned))?.state, 'errored');
      assert.match((await store.runs.get(abandoned))?.reason ?? '', /pid 4321 on elsewhere/);
      assert.equal((await store.taskRuns.get(task.id))?.state, 'errored');
      assert.equal((await store.runs.get(live))?.state, 'running');
      assert.equal((await store.runs.get(serves))?.state, 'running', 'the next serve resumes it');
      const types = (await store.outbox.listByRun(abandoned)).map((e) => e.type);
      assert.ok(
        types.some((t) => t.includes('pipelinerun.finished')),
        types.join(),
      );
      assert.deepEqual(await endAbandonedRuns(deps), [], 'nothing twice');

      // a process that is gone while its lease still runs: isGone says so
      await store.replicas.register(replica('cli-gone', null), 60_000);
      const gone = await held(store, 'cli-gone');
      assert.deepEqual(await endAbandonedRuns(deps), []);
      const isGone = async (r: { id: string }) => r.id === 'cli-gone';
      assert.deepEqual(
        (await endAbandonedRuns({ ...deps, isGone })).map((r) => r.id),
        [gone],
      );
    } finally {
      await store.close();
    }
  });
});
