import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TaskRunRecord } from '../src/store/types.js';
import { createHarness, type Harness } from './support/harness.js';

/** Matrix fan-out end to end: real processes on the local executor, a real SQLite store. */
describe('matrix on the local executor', { concurrency: false }, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ executor: 'local' });
  });
  after(async () => {
    await h?.close();
  });

  const combinationsOf = (tasks: readonly TaskRunRecord[], action: string) =>
    tasks.filter((t) => t.matrix?.action === action).sort((a, b) => a.matrix!.index - b.matrix!.index);

  test('a 2×2 matrix runs each combination; a later action reads their outputs as a list in order', async () => {
    const { run, tasks, byAction } = await h.run(`name: grid
stages:
  - name: build
    actions:
      - name: build
        matrix: { os: [linux, mac], node: [18, 20] }
        with: { os: "\${{ matrix.os }}", node: "\${{ matrix.node }}" }
        run: 'echo "[COUT] label=$CO_INPUT_OS-$CO_INPUT_NODE"'
  - name: report
    actions:
      - name: report
        with:
          labels: "\${{ actions.build.outputs.map(o, o.label) }}"
          status: "\${{ actions.build.status }}"
        run: 'echo "$CO_DATA"'
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const build = combinationsOf(tasks, 'build');
    assert.deepEqual(
      build.map((t) => [t.action, t.state, t.stage]),
      [
        ['build (linux, 18)', 'succeeded', 'build'],
        ['build (linux, 20)', 'succeeded', 'build'],
        ['build (mac, 18)', 'succeeded', 'build'],
        ['build (mac, 20)', 'succeeded', 'build'],
      ],
    );
    assert.deepEqual(build[3]!.matrix, { action: 'build', index: 3, values: { os: 'mac', node: 20 } });
    assert.deepEqual(build[3]!.eventData, { os: 'mac', node: 20 });
    assert.equal(byAction.get('build'), undefined, 'no task run carries the matrix action’s bare name');
    assert.deepEqual(byAction.get('report')!.eventData, {
      labels: ['linux-18', 'linux-20', 'mac-18', 'mac-20'],
      status: 'succeeded',
    });
  });

  test('maxParallel caps the combinations running at once', async () => {
    const { run, tasks } = await h.run(`name: capped-grid
stages:
  - name: only
    actions:
      - name: work
        matrix: { n: [1, 2, 3, 4, 5], maxParallel: 2 }
        run: sleep 0.3
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const work = combinationsOf(tasks, 'work');
    assert.equal(work.length, 5);
    for (const task of work) {
      const running = work.filter((t) => t.startedAt! <= task.startedAt! && t.endedAt! > task.startedAt!);
      assert.ok(running.length <= 2, `${running.length} ran at once when ${task.action} started`);
    }
  });

  test('failFast per matrix: a failed combination cancels the running ones, and the run fails', async () => {
    const { run, tasks } = await h.run(`name: fail-fast-grid
stages:
  - name: only
    actions:
      - name: test
        matrix: { shard: [bad, slow1, slow2], failFast: true }
        with: { shard: "\${{ matrix.shard }}" }
        run: 'if [ "$CO_INPUT_SHARD" = bad ]; then exit 3; fi; sleep 30'
      - name: sibling
        run: sleep 0.2
`);
    assert.equal(run.state, 'failed');
    assert.equal(run.reason, 'action test failed');
    const test = combinationsOf(tasks, 'test');
    assert.deepEqual(
      test.map((t) => [t.action, t.state]),
      [
        ['test (bad)', 'failed'],
        ['test (slow1)', 'cancelled'],
        ['test (slow2)', 'cancelled'],
      ],
    );
    assert.match(test[1]!.reason ?? '', /test \(bad\) failed \(matrix failFast\)/);
    assert.equal(tasks.find((t) => t.action === 'sibling')!.state, 'succeeded', 'the workflow is not failFast');
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('a matrix from an earlier action’s outputs expands at run time, include and exclude too', async () => {
    const { run, tasks, byAction } = await h.run(`name: dynamic-grid
stages:
  - name: plan
    actions:
      - { name: plan, run: 'echo "[COUT] targets=eu,us,asia"' }
  - name: deploy
    actions:
      - name: deploy
        matrix:
          target: "\${{ actions.plan.outputs.targets.split(',') }}"
          exclude: [{ target: asia }]
          include: "\${{ [{'target': 'eu', 'primary': true}] }}"
        if: "\${{ matrix.primary != true }}"
        with: { target: "\${{ matrix.target }}" }
        run: 'echo "[COUT] where=$CO_INPUT_TARGET"'
  - name: after
    actions:
      - name: after
        with: { where: "\${{ actions.deploy.outputs.map(o, o.?where.orValue('-')) }}" }
        run: "true"
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.deepEqual(
      combinationsOf(tasks, 'deploy').map((t) => [t.action, t.state, t.matrix!.values]),
      [
        ['deploy (eu, true)', 'skipped', { target: 'eu', primary: true }],
        ['deploy (us)', 'succeeded', { target: 'us', primary: null }],
      ],
    );
    assert.deepEqual(byAction.get('after')!.eventData, { where: ['-', 'us'] });
  });

  test('a run-time matrix past 256 combinations, or not a list, errors its action with the reason', async () => {
    const { run, byAction } = await h.run(`name: too-big-grid
stages:
  - name: plan
    actions:
      - { name: plan, run: 'echo "[COUT] many=$(seq -s, 1 257)"' }
  - name: fan
    actions:
      - name: wide
        matrix: { n: "\${{ actions.plan.outputs.many.split(',') }}" }
        run: "true"
      - name: scalar
        matrix: { n: "\${{ actions.plan.outputs.many }}" }
        run: "true"
`);
    assert.equal(run.state, 'errored');
    assert.equal(byAction.get('wide')!.state, 'errored');
    assert.equal(
      byAction.get('wide')!.reason,
      'matrix: the matrix expands into 257 combinations; at most 256 are allowed',
    );
    assert.match(byAction.get('scalar')!.reason ?? '', /^matrix: n: an axis is a list of values, got "1,2,3/);
  });
});
