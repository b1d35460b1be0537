import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '../src/domain/ids.js';
import type { Executor, RunResources, RunScope, TaskSpec } from '../src/executor/executor.js';
import { createLocalExecutor } from '../src/executor/local/local-executor.js';
import { createHostWorkspaces } from '../src/executor/shared/host-workspaces.js';
import { createHarness, eventually, type Harness } from './support/harness.js';

/** What the engine asked of the recording executor, in order. */
type Call =
  | { kind: 'prepare'; scope: RunScope }
  | { kind: 'start'; spec: TaskSpec }
  | { kind: 'destroy'; ref: string }
  | { kind: 'release'; runId: string; keep: boolean; runState: string | undefined };

/**
 * A local executor that records the engine's lifecycle calls (and the run's state in
 * the store when its resources are released), with a scriptable prepare failure and listRuns.
 */
function recordingExecutor(h: () => Harness, root: string) {
  const calls: Call[] = [];
  const inner = createLocalExecutor({ killGraceMs: 1000, workspaces: createHostWorkspaces(root) });
  const control = { failPrepares: 0, held: [] as RunResources[] };
  const executor: Executor = {
    ...inner,
    // workflow files may only name local, docker and kubernetes: it stands in for docker
    name: 'docker',
    async prepareRun(scope) {
      calls.push({ kind: 'prepare', scope });
      if (control.failPrepares > 0) {
        control.failPrepares -= 1;
        throw new Error('volume quota exceeded');
      }
      return inner.prepareRun(scope);
    },
    async start(spec, onLog) {
      calls.push({ kind: 'start', spec });
      return inner.start(spec, onLog);
    },
    async destroy(ref) {
      calls.push({ kind: 'destroy', ref });
      return inner.destroy(ref);
    },
    async releaseRun(runId, options) {
      const runState = (await h().runtime.store.runs.get(runId))?.state;
      calls.push({ kind: 'release', runId, keep: options.keep, runState });
      return inner.releaseRun(runId, options);
    },
    listRuns: async () => control.held,
  };
  return { executor, calls, control };
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('run-scoped executor resources (prepareRun, releaseRun, listRuns)', { concurrency: false }, () => {
  let h: Harness;
  let rec: ReturnType<typeof recordingExecutor>;
  before(async () => {
    const root = join((await import('node:os')).tmpdir(), `pilotage-rec-${newId()}`);
    rec = recordingExecutor(() => h, root);
    h = await createHarness({ executor: 'local', extraExecutors: [rec.executor], keepWorkspace: false });
  });
  after(async () => {
    await h?.close();
  });

  test('prepared once per executor at first use, shared by its task runs, released before the end is recorded', async () => {
    rec.calls.length = 0;
    const { run, byAction } = await h.run(`name: lifecycle
stages:
  - name: one
    actions:
      - { name: write, executor: docker, run: 'echo made > "$CO_WORKSPACE/file"' }
      - { name: host, run: 'pwd > "$CO_WORKSPACE/where"' }
  - name: two
    actions:
      - { name: read, executor: docker, run: 'echo "[COUT] got=$(cat "$CO_WORKSPACE/file")"' }
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.deepEqual(byAction.get('read')!.output, { got: 'made' }, "the second stage read the first stage's file");

    const mine = rec.calls.filter((c) => c.kind !== 'release' || c.runId === run.id);
    const prepares = mine.filter((c) => c.kind === 'prepare');
    assert.equal(prepares.length, 1, 'prepared once for two task runs');
    assert.deepEqual(prepares[0]!.scope, { runId: run.id, workflow: 'lifecycle', actions: 2 });
    const starts = mine.filter((c) => c.kind === 'start');
    assert.equal(starts.length, 2);
    assert.deepEqual(starts[0]!.spec.workspace, starts[1]!.spec.workspace, 'one workspace for the run');
    assert.ok(mine.findIndex((c) => c.kind === 'prepare') < mine.findIndex((c) => c.kind === 'start'));

    const releases = mine.filter((c) => c.kind === 'release');
    assert.equal(releases.length, 1);
    assert.deepEqual(releases[0], { kind: 'release', runId: run.id, keep: false, runState: 'running' });
    assert.equal(mine.at(-1)!.kind, 'release', 'released after every destroy');
    assert.equal(await exists(starts[0]!.spec.workspace.hostDir!), false, 'the folder is gone');
    // the local executor's own workspace (another executor, the same root of the config) too
    assert.equal(await exists(join(h.runtime.config.workspaceRoot, run.id)), false);
  });

  test('an executor named by the plan but never reached is released too (a resumed run may start nothing)', async () => {
    rec.calls.length = 0;
    const { run } = await h.run(`name: skipped
stages:
  - name: one
    actions:
      - { name: never, executor: docker, if: "\${{ false }}", run: 'true' }
`);
    assert.equal(run.state, 'succeeded');
    assert.deepEqual(
      rec.calls.map((c) => c.kind),
      ['release'],
    );
  });

  test('a failed preparation errors the attempt, and a retry prepares again', async () => {
    rec.calls.length = 0;
    rec.control.failPrepares = 1;
    const { run, tasks } = await h.run(`name: flaky-volume
stages:
  - name: one
    actions:
      - name: task
        executor: docker
        run: 'true'
        retries: { limit: 1, backoff: 10ms }
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const sorted = tasks.sort((a, b) => a.attempt - b.attempt);
    assert.equal(sorted[0]!.state, 'errored');
    assert.match(sorted[0]!.reason ?? '', /could not prepare the run's workspace: volume quota exceeded/);
    assert.equal(sorted[1]!.state, 'succeeded');
    assert.equal(rec.calls.filter((c) => c.kind === 'prepare').length, 2);
  });

  test('recovery releases what ended and unknown runs left, but not kept ones nor those of live runs', async () => {
    const ended = await h.run(`name: ended\nstages:\n  - name: one\n    actions:\n      - { name: a, run: 'true' }\n`);
    const live = await h.start(`name: live
stages:
  - name: one
    actions:
      - { name: wait, executor: docker, run: 'while [ ! -f go ]; do sleep 0.05; done' }
`);
    const liveDir = await eventually(async () => {
      const start = rec.calls.find((c) => c.kind === 'start' && c.spec.runId === live.id);
      return start?.kind === 'start' ? start.spec.workspace.hostDir : undefined;
    });
    const unknown = newId();
    const keptRun = await h.run(`name: kept\nstages:\n  - name: one\n    actions:\n      - { name: a, run: 'true' }\n`);
    rec.control.held = [
      { runId: ended.run.id, kept: false },
      { runId: keptRun.run.id, kept: true },
      { runId: live.id, kept: false },
      { runId: unknown, kept: false },
    ];
    rec.calls.length = 0;
    await h.runtime.engine.recover();
    const released = rec.calls.flatMap((c) => (c.kind === 'release' ? [c.runId] : []));
    assert.deepEqual(released.sort(), [ended.run.id, unknown].sort());
    rec.control.held = [];

    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(liveDir, 'go'), '');
    assert.equal((await h.runtime.engine.waitForRun(live.id)).state, 'succeeded');
  });
});

describe('run-scoped executor resources with keepWorkspace', () => {
  test('the workspace is released with keep, and the host folder stays', async () => {
    const h = await createHarness({ executor: 'local', keepWorkspace: true });
    try {
      const { run } = await h.run(
        `name: keep\nstages:\n  - name: one\n    actions:\n      - { name: a, run: 'echo x > f' }\n`,
      );
      assert.equal(run.state, 'succeeded');
      assert.equal(await exists(join(h.runtime.config.workspaceRoot, run.id, 'f')), true);
    } finally {
      await h.close();
    }
  });
});
