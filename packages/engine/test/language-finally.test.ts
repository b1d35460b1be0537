import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHarness, eventually, type Harness } from './support/harness.js';

/** `finally` stages and status functions end to end: real processes, a real SQLite store. */
describe('finally stages and status functions on the local executor', { concurrency: false }, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ executor: 'local' });
  });
  after(async () => {
    await h?.close();
  });

  test('a run that fails still runs its finally notification, which reads the status', async () => {
    const notified = join(h.dir, 'notified-failure.txt');
    const { run, byAction } = await h.run(`name: fails-then-notifies
stages:
  - name: test
    actions:
      - { name: unit, run: "exit 4" }
  - name: publish
    actions:
      - { name: publish, run: "true" }
      - name: logs
        if: always()
        run: "true"
finally:
  - name: notify
    actions:
      - name: on-failure
        if: \${{ failure() }}
        env:
          STATUS: \${{ run.status }}
          UNIT: \${{ actions.unit.status }}
          PUBLISH: \${{ actions.publish.status }}
        run: 'echo "$STATUS $UNIT $PUBLISH" > ${notified}'
      - name: on-success
        if: \${{ success() }}
        run: "true"
`);
    assert.equal(run.state, 'failed');
    assert.equal(run.reason, 'action unit failed', 'the first failure decides, not finally');
    assert.equal(byAction.get('publish')!.state, 'skipped');
    assert.equal(byAction.get('logs')!.state, 'succeeded', 'if: always() runs after a failure');
    assert.equal(byAction.get('on-failure')!.state, 'succeeded');
    assert.equal(byAction.get('on-failure')!.stage, 'notify');
    assert.equal(byAction.get('on-success')!.state, 'skipped');
    assert.equal((await readFile(notified, 'utf8')).trim(), 'failed failed skipped');
  });

  test('a run cancelled mid-run runs its finally stages too, within the grace period', async () => {
    const notified = join(h.dir, 'notified-cancel.txt');
    const started = await h.start(`name: cancelled-then-notifies
stages:
  - name: one
    actions:
      - { name: long, run: "sleep 300" }
  - name: two
    actions:
      - { name: next, run: "true" }
finally:
  - name: notify
    actions:
      - name: on-cancel
        if: \${{ cancelled() }}
        env: { STATUS: "\${{ run.status }}", LONG: "\${{ actions.long.status }}" }
        run: 'echo "$STATUS $LONG" > ${notified}'
      - name: always
        run: "true"
`);
    await eventually(
      async () =>
        (await h.runtime.store.taskRuns.listByRun(started.id)).some((t) => t.state === 'running') ? true : undefined,
      10_000,
      'the long action to run',
    );
    await h.runtime.engine.cancelRun(started.id, 'test cancel');
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'cancelled');
    assert.equal(run.reason, 'test cancel');
    const tasks = await h.runtime.store.taskRuns.listByRun(run.id);
    const state = (action: string) => tasks.find((t) => t.action === action)?.state;
    assert.equal(state('long'), 'cancelled');
    assert.equal(state('next'), 'cancelled');
    assert.equal(state('on-cancel'), 'succeeded');
    assert.equal(state('always'), 'succeeded');
    assert.equal((await readFile(notified, 'utf8')).trim(), 'cancelled cancelled');
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('a second cancel stops the finally stages too', async () => {
    const started = await h.start(`name: cancel-twice
stages:
  - name: one
    actions:
      - { name: long, run: "sleep 300" }
finally:
  - name: cleanup
    actions:
      - { name: slow-cleanup, run: "sleep 300" }
`);
    const runningAction = (action: string) =>
      eventually(
        async () =>
          (await h.runtime.store.taskRuns.listByRun(started.id)).some(
            (t) => t.action === action && t.state === 'running',
          )
            ? true
            : undefined,
        10_000,
        `${action} to run`,
      );
    await runningAction('long');
    await h.runtime.engine.cancelRun(started.id, 'first cancel');
    await runningAction('slow-cleanup');
    await h.runtime.engine.cancelRun(started.id, 'second cancel');
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'cancelled');
    assert.equal(run.reason, 'first cancel');
    const cleanup = (await h.runtime.store.taskRuns.listByRun(run.id)).find((t) => t.action === 'slow-cleanup')!;
    assert.equal(cleanup.state, 'cancelled');
    assert.equal(cleanup.reason, 'second cancel');
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('finallyTimeout bounds the finally stages', async () => {
    const { run, byAction } = await h.run(`name: finally-timeout
finallyTimeout: 500ms
stages:
  - name: one
    actions:
      - { name: quick, run: "true" }
finally:
  - name: cleanup
    actions:
      - { name: hangs, run: "sleep 300" }
  - name: later
    actions:
      - { name: never, run: "true" }
`);
    assert.equal(run.state, 'failed');
    assert.equal(run.reason, 'finally: action hangs failed', 'a timeout fails what it stops');
    assert.equal(byAction.get('hangs')!.reason, 'finally timeout: exceeded 500ms');
    assert.equal(byAction.get('never')!.state, 'cancelled');
  });

  test('a failure in finally fails a run that had succeeded; later finally stages still run', async () => {
    const { run, byAction } = await h.run(`name: finally-fails
stages:
  - name: one
    actions:
      - { name: ok, run: "true" }
finally:
  - name: first
    actions:
      - { name: broken-cleanup, run: "exit 2" }
  - name: second
    actions:
      - name: reports
        if: \${{ failure() }}
        env: { STATUS: "\${{ run.status }}" }
        run: 'test "$STATUS" = failed'
`);
    assert.equal(run.state, 'failed');
    assert.equal(run.reason, 'finally: action broken-cleanup failed');
    assert.equal(byAction.get('ok')!.state, 'succeeded');
    assert.equal(byAction.get('reports')!.state, 'succeeded', 'failure() sees the finally failure');
  });

  test('a succeeded run runs success() finally actions and stays succeeded', async () => {
    const { run, byAction } = await h.run(`name: finally-succeeds
stages:
  - name: one
    actions:
      - { name: ok, run: "true" }
finally:
  - name: notify
    actions:
      - name: on-success
        if: \${{ success() && actions.ok.status == 'succeeded' }}
        env: { STATUS: "\${{ run.status }}" }
        run: 'test "$STATUS" = succeeded'
      - { name: on-failure, if: "failure()", run: "exit 1" }
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.equal(byAction.get('on-success')!.state, 'succeeded');
    assert.equal(byAction.get('on-failure')!.state, 'skipped');
  });
});
