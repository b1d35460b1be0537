import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newEvent, newRun } from './store-suite/fixtures.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

// The store counts /metrics reads at each scrape, on every dialect.
function countCases(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());

    test('runs.countByState names every state, 0 when none', async (t) => {
      const store = await h.fresh(t);
      assert.deepEqual(await store.runs.countByState(), {
        queued: 0,
        running: 0,
        succeeded: 0,
        failed: 0,
        errored: 0,
        cancelled: 0,
      });
      const runs = await Promise.all([1, 2, 3, 4].map(() => store.runs.create(newRun())));
      await store.runs.transition(runs[0]!.id, ['queued'], 'running', 1);
      await store.runs.transition(runs[1]!.id, ['queued'], 'running', 1);
      await store.runs.transition(runs[1]!.id, ['running'], 'failed', 2);
      const counts = await store.runs.countByState();
      assert.deepEqual(counts, { queued: 2, running: 1, succeeded: 0, failed: 1, errored: 0, cancelled: 0 });
      for (const value of Object.values(counts)) assert.equal(typeof value, 'number');
    });

    test('deliveries.countPending counts pending rows over all sinks', async (t) => {
      const store = await h.fresh(t);
      assert.equal(await store.deliveries.countPending(), 0);
      const run = await store.runs.create(newRun(), [newEvent(null), newEvent(null)]);
      assert.ok(run);
      await store.deliveries.enqueueNew('sink-a', 1);
      await store.deliveries.enqueueNew('sink-b', 1);
      assert.equal(await store.deliveries.countPending(), 4);
      const [first] = await store.deliveries.listPending('sink-a', 1);
      await store.deliveries.markDelivered('sink-a', first!.eventSeq, 2);
      await store.deliveries.markFailed('sink-b', first!.eventSeq, 'down', 3, true);
      assert.equal(await store.deliveries.countPending(), 2);
    });
  });
}

await onEachDialect('metrics counts', countCases);
