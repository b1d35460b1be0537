import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newRun } from './store-suite/fixtures.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

// The filters the runs API adds to RunStore.list (trigger kind, creation time), on every dialect.
function filterCases(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());

    test('list filters by trigger kind, created after (inclusive) and before (exclusive), with the cursor', async (t) => {
      const store = await h.fresh(t);
      const at = (n: number) => 1_700_000_000_000 + n * 1000;
      const manual = await store.runs.create(newRun('w', { trigger: { kind: 'manual', by: 'ann' }, createdAt: at(1) }));
      const hook = await store.runs.create(
        newRun('w', { trigger: { kind: 'webhook', by: 'github' }, createdAt: at(2) }),
      );
      const rerun = await store.runs.create(
        newRun('w', {
          trigger: { kind: 'rerun', by: 'bob', details: { of: manual.id, from: 'failed' } },
          createdAt: at(3),
        }),
      );
      const other = await store.runs.create(newRun('x', { trigger: { kind: 'manual' }, createdAt: at(4) }));
      const ids = async (filter: Parameters<typeof store.runs.list>[0]) =>
        (await store.runs.list(filter)).map((r) => r.id);

      assert.deepEqual(await ids({ triggerKind: 'manual' }), [other.id, manual.id]);
      assert.deepEqual(await ids({ triggerKind: 'rerun' }), [rerun.id]);
      assert.deepEqual(await ids({ triggerKind: 'cron' }), []);
      assert.deepEqual(await ids({ workflow: 'w', triggerKind: 'manual' }), [manual.id]);
      assert.deepEqual(await ids({ createdAfter: at(2) }), [other.id, rerun.id, hook.id]);
      assert.deepEqual(await ids({ createdBefore: at(2) }), [manual.id]);
      assert.deepEqual(await ids({ createdAfter: at(2), createdBefore: at(4) }), [rerun.id, hook.id]);
      assert.deepEqual(await ids({ createdAfter: at(1), before: rerun.id, limit: 1 }), [hook.id]);
    });
  });
}

await onEachDialect('run filters', filterCases);
