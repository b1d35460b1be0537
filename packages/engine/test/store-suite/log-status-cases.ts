import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NotFoundError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import type { StoreHarness } from './harness.js';
import { newRun, newTaskRun, seedTaskRun } from './fixtures.js';

function lines(prefix: string, count: number, at = 1): { at: number; stream: 'stdout' | 'stderr'; line: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    at: at + i,
    stream: i % 3 === 0 ? ('stderr' as const) : ('stdout' as const),
    line: `${prefix} ${i} ünïcødé \t"quoted"`,
  }));
}

/** LogStore and StatusStore: gapless per-task-run sequences, reads, tails. */
export function logStatusCases(h: StoreHarness): void {
  describe('logs and statuses', () => {
    test('append numbers lines 1..n per task run; read pages after a seq', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      const other = await seedTaskRun(store);
      assert.equal(await store.logs.append(task, lines('a', 100)), 100);
      assert.equal(await store.logs.append(other, lines('o', 2)), 2);
      assert.equal(await store.logs.append(task, lines('b', 5, 500)), 105);
      assert.equal(await store.logs.append(task, []), 105, 'empty append returns the last seq');
      const all = await store.logs.read(task);
      assert.deepEqual(
        all.map((l) => l.seq),
        Array.from({ length: 105 }, (_, i) => i + 1),
      );
      assert.deepEqual(all[0], { taskRunId: task, seq: 1, at: 1, stream: 'stderr', line: 'a 0 ünïcødé \t"quoted"' });
      assert.deepEqual(all[100], {
        taskRunId: task,
        seq: 101,
        at: 500,
        stream: 'stderr',
        line: 'b 0 ünïcødé \t"quoted"',
      });
      const page = await store.logs.read(task, 98, 4);
      assert.deepEqual(
        page.map((l) => l.line.split(' ').slice(0, 2).join(' ')),
        ['a 98', 'a 99', 'b 0', 'b 1'],
      );
      assert.deepEqual(await store.logs.read(task, 105), []);
      assert.deepEqual(
        (await store.logs.tail(task, 3)).map((l) => l.seq),
        [103, 104, 105],
      );
      assert.deepEqual(
        (await store.logs.tail(other, 10)).map((l) => l.seq),
        [1, 2],
      );
      assert.deepEqual(await store.logs.tail(task, 0), []);
      await assert.rejects(store.logs.append(newId(), lines('x', 1)), NotFoundError);
    });

    test('a large append is stored whole (several inserts, one transaction)', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      assert.equal(await store.logs.append(task, lines('big', 2500)), 2500);
      const tail = await store.logs.tail(task, 1);
      assert.equal(tail[0]?.line.startsWith('big 2499 '), true);
      assert.equal((await store.logs.read(task, 0, 5000)).length, 2500);
    });

    test('concurrent appends to one task run get gapless, contiguous blocks', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      const batches = Array.from({ length: 12 }, (_, b) => lines(`batch${b}`, 10));
      const lasts = await Promise.all(batches.map((batch) => store.logs.append(task, batch)));
      assert.deepEqual(
        [...lasts].sort((a, b) => a - b),
        Array.from({ length: 12 }, (_, i) => (i + 1) * 10),
      );
      const all = await store.logs.read(task);
      assert.deepEqual(
        all.map((l) => l.seq),
        Array.from({ length: 120 }, (_, i) => i + 1),
      );
      lasts.forEach((last, b) => {
        const block = all.slice(last - 10, last).map((l) => l.line.split(' ').slice(0, 2).join(' '));
        assert.deepEqual(
          block,
          Array.from({ length: 10 }, (_, i) => `batch${b} ${i}`),
        );
      });
    });

    test('statuses: seq per task run, JSON output, concurrent appends stay gapless', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      const first = await store.statuses.append(task, { at: 10, message: 'cloning', progress: 0.25 });
      assert.deepEqual(first, { taskRunId: task, seq: 1, at: 10, message: 'cloning', progress: 0.25, output: null });
      await store.statuses.append(task, { at: 11, output: { commit: 'abc', files: [1, 2] } });
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.statuses.append(task, { at: 20 + i })));
      const all = await store.statuses.list(task);
      assert.deepEqual(
        all.map((s) => s.seq),
        Array.from({ length: 10 }, (_, i) => i + 1),
      );
      assert.deepEqual(all[1], {
        taskRunId: task,
        seq: 2,
        at: 11,
        message: null,
        progress: null,
        output: { commit: 'abc', files: [1, 2] },
      });
      assert.deepEqual(await store.statuses.list(newId()), []);
      await assert.rejects(store.statuses.append(newId(), { at: 1 }), NotFoundError);
    });

    test('listForRun: the statuses and transitions of a run and all its task runs, no other run', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const other = await store.runs.create(newRun());
      const a = await store.taskRuns.create(newTaskRun(run.id, { action: 'a' }));
      const b = await store.taskRuns.create(newTaskRun(run.id, { action: 'b' }));
      const elsewhere = await store.taskRuns.create(newTaskRun(other.id));
      await store.statuses.append(b.id, { at: 1, message: 'b1' });
      await store.statuses.append(a.id, { at: 2, message: 'a1', output: { n: 1 } });
      await store.statuses.append(b.id, { at: 3, message: 'b2' });
      await store.statuses.append(elsewhere.id, { at: 4, message: 'other' });
      const statuses = await store.statuses.listForRun(run.id);
      assert.deepEqual(
        statuses.map((s) => [s.taskRunId, s.seq, s.message]).sort(),
        [
          [a.id, 1, 'a1'],
          [b.id, 1, 'b1'],
          [b.id, 2, 'b2'],
        ].sort(),
      );
      assert.deepEqual(statuses.find((s) => s.taskRunId === a.id)?.output, { n: 1 });
      assert.deepEqual(await store.statuses.listForRun(newId()), []);

      assert.equal(await store.runs.transition(run.id, ['queued'], 'running', 10), true);
      assert.equal(await store.taskRuns.transition(a.id, ['pending'], 'starting', 11), true);
      assert.equal(await store.taskRuns.transition(elsewhere.id, ['pending'], 'starting', 12), true);
      assert.equal(await store.taskRuns.transition(a.id, ['starting'], 'running', 13), true);
      const transitions = await store.transitions.listForRun(run.id);
      assert.deepEqual(
        transitions.map((tr) => [tr.entityId, tr.to]),
        [
          [run.id, 'queued'],
          [a.id, 'pending'],
          [b.id, 'pending'],
          [run.id, 'running'],
          [a.id, 'starting'],
          [a.id, 'running'],
        ],
        'oldest first (creations included), the other run left out',
      );
    });

    test('statuses.record: the report, the latest message/output and the first step mark, together', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      const first = await store.statuses.record(task, { at: 10, message: 'cloning', progress: 0.25 });
      assert.deepEqual(first, { taskRunId: task, seq: 1, at: 10, message: 'cloning', progress: 0.25, output: null });
      let run = await store.taskRuns.get(task);
      assert.deepEqual([run?.message, run?.output, run?.steps], ['cloning', {}, { 'task-status': 10 }]);

      // output only: the message stays; the step keeps its first time
      await store.statuses.record(task, { at: 11, output: { commit: 'abc' } });
      run = await store.taskRuns.get(task);
      assert.deepEqual([run?.message, run?.output, run?.steps], ['cloning', { commit: 'abc' }, { 'task-status': 10 }]);

      // concurrent reports (grouped): gapless seqs, the last reported message and output win
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.statuses.record(task, {
            at: 20 + i,
            message: i % 2 === 0 ? `m${i}` : null,
            ...(i < 5 ? { output: { i } } : {}),
          }),
        ),
      );
      const all = await store.statuses.list(task);
      assert.deepEqual(
        all.map((s) => [s.seq, s.at]),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((seq, k) => [seq, k < 2 ? 10 + k : 18 + k]),
      );
      run = await store.taskRuns.get(task);
      assert.deepEqual([run?.message, run?.output, run?.steps], ['m6', { i: 4 }, { 'task-status': 10 }]);

      // an unknown task run: rejected, and a good report queued with it is still written
      const [bad, good] = await Promise.allSettled([
        store.statuses.record(newId(), { at: 1, message: 'lost' }),
        store.statuses.record(task, { at: 40, message: 'last' }),
      ]);
      assert.equal(bad.status, 'rejected');
      assert.ok(bad.status === 'rejected' && bad.reason instanceof NotFoundError);
      assert.deepEqual(good.status === 'fulfilled' ? [good.value.seq, good.value.message] : [], [11, 'last']);
      assert.equal((await store.taskRuns.get(task))?.message, 'last');
    });

    test('statuses.record marks the step at its first report when it was not marked before', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      await store.statuses.append(task, { at: 5, message: 'append only' });
      let run = await store.taskRuns.get(task);
      assert.deepEqual([run?.message, run?.steps], [null, {}], 'append leaves the task run alone');
      await Promise.all([
        store.statuses.append(task, { at: 6, message: 'a' }),
        store.statuses.record(task, { at: 7, message: 'r1' }),
        store.statuses.append(task, { at: 8, message: 'b' }),
        store.statuses.record(task, { at: 9 }),
      ]);
      run = await store.taskRuns.get(task);
      assert.deepEqual([run?.message, run?.steps], ['r1', { 'task-status': 7 }]);
      assert.deepEqual(
        (await store.statuses.list(task)).map((s) => s.message),
        ['append only', 'a', 'r1', 'b', null],
      );
    });
  });
}
