import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeaseLostError } from '../../src/domain/errors.js';
import { LIMIT_NOTICE_PREFIX } from '../../src/domain/task-run-limits.js';
import type { Store } from '../../src/store/types.js';
import { newRun, newTaskRun, seedTaskRun } from './fixtures.js';
import type { StoreHarness } from './harness.js';

type Line = { at: number; stream: 'stdout' | 'stderr'; line: string };

/** `count` lines of `width` ASCII characters (each counts width + 1 bytes), numbered from `from`. */
function lines(count: number, width = 9, from = 0): Line[] {
  return Array.from({ length: count }, (_, i) => ({
    at: from + i,
    stream: 'stdout' as const,
    line: String(from + i).padStart(width, '0'),
  }));
}

async function notices(store: Store, taskRunId: string): Promise<string[]> {
  return (await store.logs.read(taskRunId, 0, 5000))
    .map((l) => l.line)
    .filter((l) => l.startsWith(LIMIT_NOTICE_PREFIX));
}

/** The per task run caps (domain/task-run-limits.ts): statuses, status bytes, log bytes. */
export function limitCases(h: StoreHarness): void {
  describe('per task run caps', () => {
    test('past the status count cap, reports are dropped and counted, one notice; the latest message and the result are kept', async (t) => {
      const store = await h.fresh(t, { limits: { statuses: 5, statusBytes: 0 } });
      const task = await seedTaskRun(store);
      const answers = [];
      for (let i = 1; i <= 8; i++)
        answers.push(await store.statuses.record(task, { at: i, message: `step ${i}`, output: { i } }));
      assert.deepEqual(
        answers.map((a) => [a.seq, a.dropped ?? false]),
        [
          [1, false],
          [2, false],
          [3, false],
          [4, false],
          [5, false],
          [0, true],
          [0, true],
          [0, true],
        ],
      );
      assert.deepEqual(
        (await store.statuses.list(task)).map((s) => s.message),
        ['step 1', 'step 2', 'step 3', 'step 4', 'step 5'],
      );
      // concurrent ones past the cap (grouped into one transaction) are counted too
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.statuses.append(task, { at: 100 + i })));
      let record = await store.taskRuns.get(task);
      assert.equal(record?.statusCount, 5);
      assert.deepEqual(record?.dropped, { statuses: 23, logLines: 0, logBytes: 0 });
      assert.equal(record?.message, 'step 8', 'a dropped report still sets the latest message');
      assert.deepEqual(record?.output, { i: 8 });
      const notice = await notices(store, task);
      assert.equal(notice.length, 1, 'one notice, however many are dropped');
      assert.match(notice[0] ?? '', /TASK_STATUS reports reached their cap of 5 reports/);
      // TASK_RESULT is the task run's own record: never capped
      await store.taskRuns.update(
        task,
        { result: 'success', output: { final: true } },
        { step: 'task-result', at: 200 },
      );
      record = await store.taskRuns.get(task);
      assert.deepEqual([record?.result, record?.output], ['success', { final: true }]);
    });

    test('the status bytes cap counts UTF-8 bytes of message and output; once a report is dropped, smaller later ones are too', async (t) => {
      const store = await h.fresh(t, { limits: { statuses: 0, statusBytes: 100 } });
      const task = await seedTaskRun(store);
      const other = await seedTaskRun(store);
      // 'é' is 2 bytes: 30 of them = 60 bytes; {"n":1} = 7 bytes
      assert.equal((await store.statuses.append(task, { at: 1, message: 'é'.repeat(30), output: { n: 1 } })).seq, 1);
      assert.equal(
        (await store.statuses.append(task, { at: 2, message: 'x'.repeat(33) })).seq,
        2,
        '67 + 33 = 100 fits',
      );
      assert.equal((await store.statuses.append(task, { at: 3, message: 'y' })).dropped, true);
      assert.equal(
        (await store.statuses.append(task, { at: 4 })).dropped,
        true,
        'an empty report after a drop is dropped',
      );
      assert.equal((await store.statuses.append(other, { at: 5, message: 'z'.repeat(100) })).seq, 1, 'per task run');
      assert.deepEqual((await store.taskRuns.get(task))?.dropped, { statuses: 2, logLines: 0, logBytes: 0 });
      assert.equal((await store.taskRuns.get(task))?.statusCount, 2);
      assert.equal((await notices(store, task)).length, 1);
      assert.equal((await notices(store, other)).length, 0);
    });

    test('past the log bytes cap, lines are dropped and counted with one notice line; what fits of a batch is kept', async (t) => {
      const store = await h.fresh(t, { limits: { logBytes: 100 } });
      const task = await seedTaskRun(store);
      assert.equal(await store.logs.append(task, lines(4)), 4, '40 bytes');
      assert.equal(await store.logs.append(task, lines(8, 9, 4)), 11, '6 of 8 fit (100 bytes), then the notice');
      assert.equal(await store.logs.append(task, lines(5, 9, 12)), 11, 'all dropped: nothing more is stored');
      assert.equal(await store.logs.append(task, [{ at: 99, stream: 'stderr', line: '' }]), 11);
      const stored = await store.logs.read(task);
      assert.deepEqual(
        stored.map((l) => l.seq),
        Array.from({ length: 11 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        stored.slice(0, 10).map((l) => l.line),
        lines(10).map((l) => l.line),
      );
      assert.equal(stored[10]?.stream, 'stderr');
      assert.match(stored[10]?.line ?? '', /log reached its cap of 100 B/);
      assert.deepEqual((await store.taskRuns.get(task))?.dropped, { statuses: 0, logLines: 8, logBytes: 71 });
      assert.deepEqual(await store.logs.tail(task, 1), [stored[10]]);
    });

    test('the caps hold across two stores on one database (replicas): the counters are in the task run row', async (t) => {
      const url = await h.freshUrl();
      const limits = { statuses: 10, logBytes: 200 };
      const a = await h.open(t, url, { limits });
      const b = await h.open(t, url, { limits });
      const task = await seedTaskRun(a);
      // PostgreSQL: both at once. SQLite: in turns (two connections of one process writing at
      // once block its thread on the file lock; replicas are processes: store-sqlite-processes)
      const all = async <T>(calls: (() => Promise<T>)[]): Promise<void> => {
        if (h.dialect === 'postgres') await Promise.all(calls.map((call) => call()));
        else for (const call of calls) await call();
      };
      await all(
        Array.from(
          { length: 30 },
          (_, i) => () => (i % 2 === 0 ? a : b).statuses.record(task, { at: i, message: `r${i}` }),
        ),
      );
      await all(
        Array.from({ length: 6 }, (_, i) => () => (i % 2 === 0 ? a : b).logs.append(task, lines(10, 9, i * 10))),
      );
      const record = await b.taskRuns.get(task);
      assert.equal(record?.statusCount, 10);
      assert.equal((await a.statuses.list(task)).length, 10);
      assert.equal(record?.dropped.statuses, 20);
      assert.equal(record?.dropped.logLines, 40, '20 of 60 lines fit in 200 bytes');
      assert.equal(
        (await a.logs.read(task, 0, 1000)).filter((l) => !l.line.startsWith(LIMIT_NOTICE_PREFIX)).length,
        20,
      );
      assert.equal((await notices(a, task)).length, 2, 'one notice per cap');
    });

    test('statuses are read by pages (after, before, the latest) and the latest few of each task run in one query', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const a = await store.taskRuns.create(newTaskRun(run.id, { action: 'a' }));
      const b = await store.taskRuns.create(newTaskRun(run.id, { action: 'b' }));
      for (let i = 1; i <= 12; i++) await store.statuses.append(a.id, { at: i, message: `a${i}` });
      await store.statuses.append(b.id, { at: 1, message: 'b1' });
      const seqs = (list: { seq: number }[]): number[] => list.map((s) => s.seq);
      assert.deepEqual(seqs(await store.statuses.read(a.id, { limit: 5 })), [1, 2, 3, 4, 5]);
      assert.deepEqual(seqs(await store.statuses.read(a.id, { after: 10, limit: 5 })), [11, 12]);
      assert.deepEqual(seqs(await store.statuses.read(a.id, { before: Infinity, limit: 3 })), [10, 11, 12]);
      assert.deepEqual(seqs(await store.statuses.read(a.id, { before: 10, limit: 3 })), [7, 8, 9]);
      assert.deepEqual(seqs(await store.statuses.read(a.id, { before: 3, limit: 5 })), [1, 2]);
      const latest = await store.statuses.latestForRun(run.id, 3);
      assert.deepEqual(latest.map((s) => [s.taskRunId === a.id ? 'a' : 'b', s.seq, s.message]).sort(), [
        ['a', 10, 'a10'],
        ['a', 11, 'a11'],
        ['a', 12, 'a12'],
        ['b', 1, 'b1'],
      ]);
      assert.deepEqual(await store.statuses.latestForRun(run.id, 0), []);
    });

    test('a replica that lost the run counts nothing past the log cap (owner-checked)', async (t) => {
      const store = await h.fresh(t, { limits: { logBytes: 10 } });
      await store.replicas.register(
        { id: 'old', engineId: 'e', host: 'h', pid: 1, process: '1.1', version: '0', url: null },
        600_000,
      );
      const run = await store.runs.create(newRun());
      const [claimed] = await store.leases.claimQueued('old', { limit: 1, only: [run.id] });
      assert.equal(claimed?.run.id, run.id);
      const old = store.ownedBy('old');
      const task = await old.taskRuns.create(newTaskRun(run.id));
      await old.logs.append(task.id, lines(3));
      assert.deepEqual((await store.taskRuns.get(task.id))?.dropped, { statuses: 0, logLines: 2, logBytes: 20 });
      const other = store.ownedBy('other');
      await assert.rejects(other.logs.append(task.id, lines(3)), LeaseLostError);
      assert.deepEqual((await store.taskRuns.get(task.id))?.dropped, { statuses: 0, logLines: 2, logBytes: 20 });
      assert.equal((await store.logs.read(task.id)).length, 2, 'the line and the notice');
    });
  });
}
