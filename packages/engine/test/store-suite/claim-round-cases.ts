import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { RunClaimer } from '../../src/engine/run-claimer.js';
import type { RunLeaseStore, Store } from '../../src/store/types.js';
import { newRun } from './fixtures.js';
import type { StoreHarness } from './harness.js';

/**
 * A claimer over the real store that counts its claim statements and carries what it claims in
 * a set; `freed` is what the engine calls when a run ends (here or, notified, elsewhere), `kick`
 * what it calls when a run is queued (or a notification or the poll wakes it).
 */
function countingClaimer(t: TestContext, store: Store, id: string, cap = 10) {
  const carried = new Set<string>();
  let claims = 0;
  const leases = new Proxy(store.leases, {
    get(target, property) {
      if (property === 'claimQueued') {
        return (...args: Parameters<RunLeaseStore['claimQueued']>) => {
          claims += 1;
          return target.claimQueued(...args);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const claimer = new RunClaimer({
    leases,
    owner: () => id,
    room: () => cap - carried.size,
    only: () => undefined,
    takesOver: () => false,
    launch: (claimed) => carried.add(claimed.run.id),
    pollMs: 60_000,
    warn: (message) => assert.fail(message),
  });
  t.after(() => claimer.stop());
  return {
    carried,
    claims: () => claims,
    /** start it: a first round at once */
    async start() {
      claimer.start();
      await claimer.settled();
    },
    async kick() {
      claimer.kick();
      await claimer.settled();
    },
    async freed() {
      claimer.freed();
      await claimer.settled();
    },
  };
}

/**
 * Claim rounds a run's end makes (issue 11: with three replicas every run end was three rounds
 * that found nothing): `RunLeaseStore.hasQueued`, and a claimer that skips the round of a run's
 * end while the queue was seen empty and no run was queued since.
 */
export function claimRoundCases(h: StoreHarness): void {
  describe('claim rounds', () => {
    test('hasQueued: a queued run nobody holds, whether claimable now or waiting for its workflow cap', async (t) => {
      const store = await h.fresh(t);
      assert.equal(await store.leases.hasQueued(), false, 'an empty store');
      const run = await store.runs.create(newRun('build'));
      assert.equal(await store.leases.hasQueued(), true);
      assert.equal((await store.leases.claimQueued('r1', { limit: 1 })).length, 1);
      assert.equal(await store.leases.hasQueued(), false, 'held by r1 (still queued until it starts it)');
      assert.ok(await store.runs.transition(run.id, ['queued'], 'running', 1));
      await store.runs.create(newRun('capped', { maxRuns: 1 }));
      assert.equal((await store.leases.claimQueued('r1', { limit: 5 })).length, 1);
      await store.runs.create(newRun('capped', { maxRuns: 1 }));
      assert.equal((await store.leases.claimQueued('r1', { limit: 5 })).length, 0, 'the cap is reached');
      assert.equal(await store.leases.hasQueued(), true, 'waiting for the cap still counts');
    });

    test('a run end after a round that found the queue empty makes no claim; a queued run makes one again', async (t) => {
      const store = await h.fresh(t);
      const replica = countingClaimer(t, store, 'r1');
      await replica.start();
      assert.equal(replica.claims(), 1);
      await replica.freed();
      await replica.freed();
      assert.equal(replica.claims(), 1, 'nothing queued: the ends of runs ask nothing of the store');
      const run = await store.runs.create(newRun('build'));
      await replica.kick();
      assert.equal(replica.claims(), 2);
      assert.deepEqual([...replica.carried], [run.id]);
      await replica.freed();
      assert.equal(replica.claims(), 2, 'the queue is empty again');
    });

    test('while a run waits for its workflow cap, every run end makes a round, which claims it once the cap allows', async (t) => {
      const store = await h.fresh(t);
      const replica = countingClaimer(t, store, 'r1');
      const first = await store.runs.create(newRun('capped', { maxRuns: 1 }));
      await replica.start();
      assert.deepEqual([...replica.carried], [first.id]);
      assert.ok(await store.runs.transition(first.id, ['queued'], 'running', 1));
      const second = await store.runs.create(newRun('capped', { maxRuns: 1 }));
      await replica.kick();
      assert.deepEqual([...replica.carried], [first.id], 'the cap holds it back');
      const claims = replica.claims();
      await replica.freed();
      assert.equal(replica.claims(), claims + 1, 'a run waits in the queue: an end makes a round');
      assert.ok(await store.runs.transition(first.id, ['running'], 'succeeded', 2));
      replica.carried.delete(first.id);
      await replica.freed();
      assert.deepEqual([...replica.carried], [second.id]);
    });
  });
}
