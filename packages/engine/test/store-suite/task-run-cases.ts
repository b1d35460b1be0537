import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NotFoundError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import type { StoreHarness } from './harness.js';
import { newEvent, newRun, newTaskRun } from './fixtures.js';

/** TaskRunStore: creation, token lookup, transitions with patches, steps. */
export function taskRunCases(h: StoreHarness): void {
  describe('task runs', () => {
    test('create stores defaults and the initial transition; listByRun keeps creation order', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const first = await store.taskRuns.create(newTaskRun(run.id, { eventData: 'plain string' }), [
        newEvent(run.id, 'dev.cdevents.taskrun.queued'),
      ]);
      const skipped = await store.taskRuns.create(
        newTaskRun(run.id, { action: 'lint', state: 'skipped', reason: 'if: false', createdAt: first.createdAt + 1 }),
      );
      const retry = await store.taskRuns.create(newTaskRun(run.id, { attempt: 2, createdAt: first.createdAt + 2 }));
      assert.deepEqual(await store.taskRuns.get(first.id), first);
      assert.equal(first.eventData, 'plain string');
      assert.deepEqual(
        [first.state, first.output, first.facts, first.steps, first.result, first.exitCode],
        ['pending', {}, {}, {}, null, null],
      );
      assert.equal(skipped.state, 'skipped');
      assert.deepEqual(await store.transitions.list(skipped.id), [
        { entityId: skipped.id, from: null, to: 'skipped', at: skipped.createdAt, reason: 'if: false' },
      ]);
      assert.deepEqual(
        (await store.taskRuns.listByRun(run.id)).map((x) => x.id),
        [first.id, skipped.id, retry.id],
      );
      assert.equal((await store.outbox.listByRun(run.id)).length, 1);
      assert.deepEqual(await store.taskRuns.listByRun(newId()), []);
      await assert.rejects(store.taskRuns.create(newTaskRun(newId())), 'the run must exist');
    });

    test('create ready to start: starting at once, its history pending then starting', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const events = [newEvent(run.id, 'dev.cdevents.taskrun.queued')];
      const task = await store.taskRuns.create(
        newTaskRun(run.id, { state: 'starting', startingAt: 7, createdAt: 5 }),
        events,
      );
      assert.equal(task.state, 'starting');
      assert.deepEqual(await store.taskRuns.get(task.id), task);
      assert.deepEqual(
        (await store.transitions.list(task.id)).map((x) => [x.from, x.to, x.at]),
        [
          [null, 'pending', 5],
          ['pending', 'starting', 7],
        ],
      );
      assert.equal((await store.outbox.listByRun(run.id)).length, 1);
      // it moves on as one created pending and moved would
      assert.ok(await store.taskRuns.transition(task.id, ['starting'], 'running', 8, { startedAt: 8 }));
    });

    test('a move with the last log lines stores both in one write; a missed move still keeps the lines', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const task = await store.taskRuns.create(newTaskRun(run.id, { state: 'starting', createdAt: 1 }));
      assert.ok(await store.taskRuns.transition(task.id, ['starting'], 'running', 2));
      await store.logs.append(task.id, [{ at: 3, stream: 'stdout', line: 'first' }]);
      const last = [
        { at: 4, stream: 'stdout' as const, line: 'second' },
        { at: 5, stream: 'stderr' as const, line: 'third' },
      ];
      const finished = newEvent(run.id, 'dev.cdevents.taskrun.finished.0.3.0');
      assert.ok(
        await store.taskRuns.transition(task.id, ['running'], 'succeeded', 6, { exitCode: 0 }, [finished], last),
      );
      assert.deepEqual(
        (await store.logs.read(task.id)).map((l) => [l.seq, l.stream, l.line]),
        [
          [1, 'stdout', 'first'],
          [2, 'stdout', 'second'],
          [3, 'stderr', 'third'],
        ],
      );
      assert.equal((await store.taskRuns.get(task.id))?.state, 'succeeded');
      assert.deepEqual(
        (await store.outbox.listByRun(run.id)).map((e) => e.id),
        [finished.id],
      );
      // the move misses (already ended): refused, the lines are the task run's all the same
      const late = [{ at: 7, stream: 'stderr' as const, line: 'late' }];
      assert.equal(
        await store.taskRuns.transition(task.id, ['running'], 'failed', 7, {}, [newEvent(run.id)], late),
        false,
      );
      assert.deepEqual(
        (await store.logs.read(task.id)).map((l) => l.line),
        ['first', 'second', 'third', 'late'],
      );
      assert.equal((await store.taskRuns.get(task.id))?.state, 'succeeded');
      assert.equal((await store.outbox.listByRun(run.id)).length, 1, 'no event for a move refused');
      await assert.rejects(
        store.taskRuns.transition(newId(), ['running'], 'failed', 8, {}, [], late),
        NotFoundError,
        'lines of an unknown task run',
      );
    });

    test('a move through a state not written on its own: both transitions, both events in order, one write', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const task = await store.taskRuns.create(newTaskRun(run.id, { state: 'starting', startingAt: 2, createdAt: 1 }));
      const started = newEvent(run.id, 'dev.cdevents.taskrun.started.0.3.0');
      const finished = newEvent(run.id, 'dev.cdevents.taskrun.finished.0.3.0');
      const patch = { ref: '42', startedAt: 3, exitCode: 0, endedAt: 4 };
      const last = [{ at: 4, stream: 'stdout' as const, line: 'x' }];
      // refused from a state it is not in: nothing written but the lines
      assert.equal(
        await store.taskRuns.transition(task.id, ['running'], 'succeeded', 4, patch, [started, finished], [], {
          state: 'running',
          at: 3,
        }),
        false,
      );
      assert.ok(
        await store.taskRuns.transition(task.id, ['starting'], 'succeeded', 4, patch, [started, finished], last, {
          state: 'running',
          at: 3,
        }),
      );
      const moved = await store.taskRuns.get(task.id);
      assert.deepEqual(
        [moved?.state, moved?.ref, moved?.startedAt, moved?.endedAt, moved?.exitCode],
        ['succeeded', '42', 3, 4, 0],
      );
      assert.deepEqual(
        (await store.transitions.list(task.id)).map((x) => [x.from, x.to, x.at]),
        [
          [null, 'pending', 1],
          ['pending', 'starting', 2],
          ['starting', 'running', 3],
          ['running', 'succeeded', 4],
        ],
      );
      assert.deepEqual(
        (await store.outbox.listByRun(run.id)).map((e) => [e.id, e.runSeq]),
        [
          [started.id, 1],
          [finished.id, 2],
        ],
      );
      assert.deepEqual(
        (await store.logs.read(task.id)).map((l) => l.line),
        ['x'],
      );
    });

    test('getByTokenHash finds the task run owning the hash', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const a = await store.taskRuns.create(newTaskRun(run.id, { tokenHash: 'a'.repeat(64) }));
      await store.taskRuns.create(newTaskRun(run.id, { tokenHash: 'b'.repeat(64) }));
      await store.taskRuns.create(newTaskRun(run.id, { tokenHash: null }));
      await store.taskRuns.create(newTaskRun(run.id, { tokenHash: null }));
      assert.equal((await store.taskRuns.getByTokenHash('a'.repeat(64)))?.id, a.id);
      assert.equal(await store.taskRuns.getByTokenHash('c'.repeat(64)), undefined);
      await assert.rejects(
        store.taskRuns.create(newTaskRun(run.id, { tokenHash: 'a'.repeat(64) })),
        'token hashes are unique',
      );
    });

    test('transition applies the patch with the state, only when it moves', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const task = await store.taskRuns.create(newTaskRun(run.id));
      assert.equal(await store.taskRuns.transition(task.id, ['running'], 'succeeded', 5, { exitCode: 0 }), false);
      assert.ok(await store.taskRuns.transition(task.id, ['pending'], 'starting', 10, { startedAt: 10 }));
      assert.ok(
        await store.taskRuns.transition(task.id, ['starting'], 'running', 11, {
          ref: 'pid:42',
          facts: { image: 'sha256:1' },
        }),
      );
      const done = await store.taskRuns.transition(
        task.id,
        ['starting', 'running'],
        'failed',
        20,
        {
          endedAt: 20,
          exitCode: 3,
          result: 'failure',
          message: 'tests failed',
          reason: 'exit code 3',
          output: { failed: 2 },
        },
        [newEvent(run.id, 'dev.cdevents.taskrun.finished.0.3.0')],
      );
      assert.ok(done);
      const after = await store.taskRuns.get(task.id);
      assert.deepEqual(
        after && {
          state: after.state,
          startedAt: after.startedAt,
          endedAt: after.endedAt,
          exitCode: after.exitCode,
          result: after.result,
          message: after.message,
          reason: after.reason,
          output: after.output,
          ref: after.ref,
          facts: after.facts,
        },
        {
          state: 'failed',
          startedAt: 10,
          endedAt: 20,
          exitCode: 3,
          result: 'failure',
          message: 'tests failed',
          reason: 'exit code 3',
          output: { failed: 2 },
          ref: 'pid:42',
          facts: { image: 'sha256:1' },
        },
      );
      assert.deepEqual(
        (await store.transitions.list(task.id)).map((x) => [x.from, x.to, x.at, x.reason]),
        [
          [null, 'pending', task.createdAt, null],
          ['pending', 'starting', 10, null],
          ['starting', 'running', 11, null],
          ['running', 'failed', 20, 'exit code 3'],
        ],
      );
      assert.equal((await store.outbox.listByRun(run.id)).length, 1);
    });

    test('a move that names how many steps it knows goes only while the store holds that many', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const task = await store.taskRuns.create(newTaskRun(run.id, { state: 'starting', createdAt: 1 }));
      assert.ok(await store.taskRuns.transition(task.id, ['starting'], 'running', 2));
      await store.taskRuns.markStep(task.id, 'component-start', 3);
      // another replica recorded a result the mover has not seen: three steps, not one
      await store.taskRuns.markStep(task.id, 'task-start', 4);
      await store.taskRuns.update(task.id, { result: 'failure' }, { step: 'task-result', at: 5 });
      const lines = [{ at: 6, stream: 'stdout' as const, line: 'last' }];
      const end = [newEvent(run.id, 'dev.cdevents.taskrun.finished.0.3.0')];
      assert.equal(
        await store.taskRuns.transition(
          task.id,
          ['running'],
          'succeeded',
          7,
          { exitCode: 0 },
          end,
          lines,
          undefined,
          1,
        ),
        false,
      );
      let stored = await store.taskRuns.get(task.id);
      assert.equal(stored?.state, 'running', 'refused: nothing moved');
      assert.equal((await store.outbox.listByRun(run.id)).length, 0, 'nor any event written');
      assert.deepEqual(
        (await store.logs.read(task.id)).map((l) => l.line),
        ['last'],
        'the last lines are kept all the same',
      );
      assert.ok(
        await store.taskRuns.transition(task.id, ['running'], 'failed', 8, { exitCode: 0 }, end, [], undefined, 3),
      );
      stored = await store.taskRuns.get(task.id);
      assert.deepEqual([stored?.state, stored?.result], ['failed', 'failure']);
      assert.equal((await store.outbox.listByRun(run.id)).length, 1);
      // a task run with no step recorded counts none
      const fresh = await store.taskRuns.create(newTaskRun(run.id, { state: 'starting', createdAt: 9 }));
      assert.ok(await store.taskRuns.transition(fresh.id, ['starting'], 'succeeded', 10, {}, [], [], undefined, 0));
    });

    test('update patches without changing state; null clears; unknown id throws', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const task = await store.taskRuns.create(newTaskRun(run.id));
      await store.taskRuns.update(task.id, { output: { partial: [1, 2] }, message: 'halfway', ref: 'c-1' });
      await store.taskRuns.update(task.id, { message: null });
      await store.taskRuns.update(task.id, {});
      const after = await store.taskRuns.get(task.id);
      assert.deepEqual(
        [after?.state, after?.output, after?.message, after?.ref],
        ['pending', { partial: [1, 2] }, null, 'c-1'],
      );
      assert.equal((await store.transitions.list(task.id)).length, 1, 'no transition recorded');
      await assert.rejects(store.taskRuns.update(newId(), { message: 'x' }), NotFoundError);
      await assert.rejects(store.taskRuns.update(newId(), {}), NotFoundError);
    });

    test('update with a step marks it in the same write, first time only; unknown id throws', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const task = await store.taskRuns.create(newTaskRun(run.id));
      await store.taskRuns.markStep(task.id, 'task-start', 100);
      await store.taskRuns.update(task.id, { result: 'success', output: { n: 1 } }, { step: 'task-result', at: 200 });
      await store.taskRuns.update(task.id, { message: 'again' }, { step: 'task-result', at: 300 });
      await store.taskRuns.update(task.id, {}, { step: 'component-stop', at: 400 });
      const after = await store.taskRuns.get(task.id);
      assert.deepEqual(
        [after?.result, after?.output, after?.message, after?.steps],
        ['success', { n: 1 }, 'again', { 'task-start': 100, 'task-result': 200, 'component-stop': 400 }],
      );
      await assert.rejects(store.taskRuns.update(newId(), {}, { step: 'task-result', at: 1 }), NotFoundError);
    });

    test('markStep keeps the first time each step was seen, even when raced', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const task = await store.taskRuns.create(newTaskRun(run.id));
      await store.taskRuns.markStep(task.id, 'component-start', 100);
      await store.taskRuns.markStep(task.id, 'component-start', 200);
      await Promise.all([
        store.taskRuns.markStep(task.id, 'task-start', 300),
        store.taskRuns.markStep(task.id, 'task-status', 400),
        store.taskRuns.markStep(task.id, 'task-result', 500),
      ]);
      await store.taskRuns.markStep(task.id, 'task-status', 450);
      await store.taskRuns.markStep(newId(), 'task-start', 1);
      assert.deepEqual((await store.taskRuns.get(task.id))?.steps, {
        'component-start': 100,
        'task-start': 300,
        'task-status': 400,
        'task-result': 500,
      });
    });
  });
}
