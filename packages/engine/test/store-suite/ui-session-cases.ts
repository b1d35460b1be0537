import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoreHarness } from './harness.js';

/** UiSessionStore: create, get, delete, expiry sweep. */
export function uiSessionCases(h: StoreHarness): void {
  describe('ui sessions', () => {
    test('create, get, delete; deleteExpired removes only the expired', async (t) => {
      const store = await h.fresh(t);
      const live = { idHash: 'a'.repeat(64), tokenHash: 't1', csrf: 'c1', createdAt: 1_000, expiresAt: 50_000 };
      const old = { idHash: 'b'.repeat(64), tokenHash: 't1', csrf: 'c2', createdAt: 1_000, expiresAt: 9_000 };
      await store.uiSessions.create(live);
      await store.uiSessions.create(old);
      assert.deepEqual(await store.uiSessions.get(live.idHash), live);
      assert.equal(await store.uiSessions.get('c'.repeat(64)), undefined);
      await assert.rejects(store.uiSessions.create(live), 'one session per id');
      assert.equal(await store.uiSessions.deleteExpired(10_000), 1);
      assert.equal(await store.uiSessions.get(old.idHash), undefined);
      assert.equal(await store.uiSessions.delete(live.idHash), true);
      assert.equal(await store.uiSessions.delete(live.idHash), false);
      assert.equal(await store.uiSessions.get(live.idHash), undefined);
    });
  });
}
