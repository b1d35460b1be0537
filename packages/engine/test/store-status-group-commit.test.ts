import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NotFoundError } from '../src/domain/errors.js';
import { newId } from '../src/domain/ids.js';
import { StoreClosedError } from '../src/store/store-error.js';
import { seedTaskRun } from './store-suite/fixtures.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

// StatusStore.append groups reports that arrive while a write is under way (status-store.ts).
function groupCommitCases(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());

    test('concurrent appends over several task runs: every seq gapless and in call order', async (t) => {
      const store = await h.fresh(t);
      const tasks = await Promise.all([1, 2, 3, 4, 5].map(() => seedTaskRun(store)));
      const calls = Array.from({ length: 300 }, (_, i) => ({ task: tasks[i % tasks.length] as string, i }));
      const records = await Promise.all(
        calls.map(({ task, i }) => store.statuses.append(task, { at: i, message: `m${i}` })),
      );
      for (const task of tasks) {
        const mine = calls.filter((c) => c.task === task).map((c) => c.i);
        const stored = await store.statuses.list(task);
        assert.deepEqual(
          stored.map((s) => s.seq),
          mine.map((_, k) => k + 1),
        );
        assert.deepEqual(
          stored.map((s) => s.at),
          mine,
          'rows of one task run keep the order of the calls',
        );
      }
      records.forEach((record, i) => {
        assert.equal(record.taskRunId, calls[i]?.task);
        assert.equal(record.message, `m${i}`);
      });
    });

    test('an unknown task run in a group fails alone; the others are stored', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      const missing = newId();
      const results = await Promise.allSettled([
        store.statuses.append(task, { at: 1 }),
        store.statuses.append(task, { at: 2 }),
        store.statuses.append(missing, { at: 3 }),
        store.statuses.append(task, { at: 4 }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
      );
      assert.ok((results[2] as PromiseRejectedResult).reason instanceof NotFoundError);
      assert.deepEqual(
        (await store.statuses.list(task)).map((s) => [s.seq, s.at]),
        [
          [1, 1],
          [2, 2],
          [3, 4],
        ],
      );
    });

    test('appends after close are refused', async (t) => {
      const store = await h.fresh(t);
      const task = await seedTaskRun(store);
      const written = store.statuses.append(task, { at: 1 });
      await store.close();
      assert.equal((await written).seq, 1, 'the append under way when close began was written');
      await assert.rejects(store.statuses.append(task, { at: 2 }), StoreClosedError);
    });
  });
}

await onEachDialect('status group commit', groupCommitCases);
