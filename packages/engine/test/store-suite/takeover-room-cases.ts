import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { RunClaimer } from '../../src/engine/run-claimer.js';
import type { NewReplica, Store } from '../../src/store/types.js';
import { newId } from '../../src/domain/ids.js';
import { APPROVAL_COMPONENT } from '../../src/domain/vocabulary.js';
import { newRun, newTaskRun } from './fixtures.js';
import type { StoreHarness } from './harness.js';

/** Long enough never to expire during a test, even across a VM pause. */
const LONG_MS = 10 * 60_000;

function replica(id: string): NewReplica {
  return { id, engineId: 'pilotage-test', host: 'test-host', pid: 1, process: '1.2', version: '0.1.0', url: null };
}

/**
 * One replica's claimer over the real store, carrying runs in a set instead of executing them:
 * `cap` is its `maxActiveRuns`, `end` ends a carried run (room for another) and runs a round.
 */
function replicaOf(t: TestContext, store: Store, id: string, cap: { value: number }) {
  const carried = new Map<string, boolean>();
  const claimer = new RunClaimer({
    leases: store.leases,
    owner: () => id,
    room: () => cap.value - carried.size,
    only: () => undefined,
    takesOver: () => true,
    launch: (claimed, takenOver) => carried.set(claimed.run.id, takenOver),
    pollMs: 60_000,
    warn: (message) => assert.fail(message),
  });
  t.after(() => claimer.stop());
  return {
    carried,
    /** the runs carried here: taken over (true) or claimed from the queue (false) */
    taken: () => [...carried].filter(([, over]) => over).map(([run]) => run),
    claimed: () => [...carried].filter(([, over]) => !over).map(([run]) => run),
    async start() {
      claimer.start();
      await claimer.settled();
    },
    async heartbeat() {
      claimer.takeOverSoon();
      await claimer.settled();
    },
    async end(runId: string) {
      assert.ok(await store.runs.transition(runId, ['running', 'queued'], 'succeeded', 99));
      carried.delete(runId);
      // what the engine calls when a run ends here
      claimer.freed();
      await claimer.settled();
    },
    async round() {
      claimer.kick();
      await claimer.settled();
    },
  };
}

/** `n` runs held by replica `dead` (running), then its lease expired; sorted as takeover takes them (by id). */
async function orphans(store: Store, n: number): Promise<string[]> {
  await store.replicas.register(replica('dead'), LONG_MS);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const run = await store.runs.create(newRun('build', { createdAt: i }));
    assert.equal((await store.leases.claimQueued('dead', { limit: 1, only: [run.id] })).length, 1);
    assert.ok(await store.runs.transition(run.id, ['queued'], 'running', i));
    ids.push(run.id);
  }
  await store.replicas.register(replica('dead'), 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  return ids.sort();
}

/** `n` queued runs nobody holds, sorted as claims take them (by id). */
async function queued(store: Store, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await store.runs.create(newRun('build', { createdAt: 100 + i }))).id);
  return ids.sort();
}

/**
 * Takeover bounded by room (issue 11): a replica takes over a dead replica's runs only up to its
 * `maxActiveRuns`, as graphile-worker and Temporal take expired work only into free slots. The
 * rest stays without a live owner (`orphaned` in the lease summary) for any replica with room,
 * and goes before queued runs as room frees, so that it is never starved. Runs that take no room
 * (waiting at a gate, child runs of runs held) are taken beyond it. The claimer (engine/) over
 * the real store of each dialect.
 */
export function takeoverRoomCases(h: StoreHarness): void {
  describe('takeover bounded by room', () => {
    test('a replica takes over only what it has room for; another live replica takes the rest', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('a'), LONG_MS);
      await store.replicas.register(replica('b'), LONG_MS);
      const lost = await orphans(store, 5);
      const waiting = await queued(store, 2);
      const a = replicaOf(t, store, 'a', { value: 2 });
      await a.start();
      assert.deepEqual(a.taken(), lost.slice(0, 2), 'a took the two oldest, within its room of 2');
      assert.deepEqual(a.claimed(), [], 'and claimed no queued run');
      assert.deepEqual(await store.leases.summary(), { unclaimed: 2, held: 2, orphaned: 3 });
      for (const id of lost.slice(2)) assert.equal((await store.runs.get(id))?.owner, 'dead');

      const b = replicaOf(t, store, 'b', { value: 10 });
      await b.start();
      assert.deepEqual(b.taken(), lost.slice(2), 'b, with room, took the rest');
      assert.deepEqual(b.claimed(), waiting, 'then the queued runs');
      assert.deepEqual(await store.leases.summary(), { unclaimed: 0, held: 7, orphaned: 0 });
      for (const id of lost) assert.notEqual((await store.runs.get(id))?.owner, 'dead');
    });

    test('the only live replica, full: runs wait without an owner, and are taken before queued runs as room frees', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('only'), LONG_MS);
      const cap = { value: 1 };
      const only = replicaOf(t, store, 'only', cap);
      const [own] = await queued(store, 1);
      await only.start();
      assert.deepEqual(only.claimed(), [own], 'it carries a run of its own: full');
      const lost = await orphans(store, 3);
      const waiting = await queued(store, 2);
      await only.heartbeat();
      assert.deepEqual(only.taken(), [], 'full: nothing taken over');
      assert.deepEqual(await store.leases.summary(), { unclaimed: 2, held: 1, orphaned: 3 });

      // its own run ends: the freed room goes to the oldest run without a live owner, not to the queue
      await only.end(own!);
      assert.deepEqual(only.taken(), [lost[0]]);
      assert.deepEqual(only.claimed(), []);
      // room for more, without waiting for a heartbeat: the rest, then the queue
      cap.value = 4;
      await only.round();
      assert.deepEqual(only.taken(), lost);
      assert.deepEqual(only.claimed(), [waiting[0]]);
      assert.deepEqual(await store.leases.summary(), { unclaimed: 1, held: 4, orphaned: 0 });
      for (const id of lost) assert.equal((await store.runs.get(id))?.owner, 'only');
    });

    test('child runs (uses:) go with their caller, beyond room; only those of runs it holds', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('only'), LONG_MS);
      await store.replicas.register(replica('other'), LONG_MS);
      await store.replicas.register(replica('dead'), LONG_MS);
      // ids in order: the caller is the oldest, so it is the one taken within room
      const [caller, child, grandchild, loose, othersChild] = Array.from({ length: 5 }, () => newId()).sort();
      const running = async (id: string, owner: string, parent?: string): Promise<void> => {
        const run = newRun('build', {
          id,
          ...(parent === undefined ? {} : { parent: { runId: parent, taskRunId: 'x' } }),
        });
        await store.runs.create(run);
        assert.equal((await store.leases.claimQueued(owner, { limit: 1, only: [id] })).length, 1);
        assert.ok(await store.runs.transition(id, ['queued'], 'running', 1));
      };
      const othersCaller = (await store.runs.create(newRun())).id;
      assert.equal((await store.leases.claimQueued('other', { limit: 1, only: [othersCaller] })).length, 1);
      await running(caller!, 'dead');
      await running(child!, 'dead', caller);
      await running(grandchild!, 'dead', child);
      await running(loose!, 'dead');
      await running(othersChild!, 'dead', othersCaller);
      await store.replicas.register(replica('dead'), 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await store.leases.takeOverBeyondRoom('only'), [], 'it holds no caller yet');

      const only = replicaOf(t, store, 'only', { value: 1 });
      await only.start();
      assert.deepEqual(only.taken(), [caller, child, grandchild], 'the caller within room, its children beyond it');
      assert.equal((await store.runs.get(loose!))?.owner, 'dead', 'an unrelated run waits for room');
      assert.equal(
        (await store.runs.get(othersChild!))?.owner,
        'dead',
        "another replica's caller's child is not taken",
      );
      assert.deepEqual(
        (await store.leases.takeOverBeyondRoom('other')).map((c) => c.run.id),
        [othersChild],
        'it goes with its own caller',
      );
    });

    test('runs waiting at an undecided gate take no room: taken over beyond it', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('full'), LONG_MS);
      const [waiting, decided, working] = await orphans(store, 3);
      const gate = async (runId: string): Promise<string> => {
        const task = await store.taskRuns.create(
          newTaskRun(runId, { component: APPROVAL_COMPONENT, executor: 'none' }),
        );
        assert.ok(await store.taskRuns.transition(task.id, ['pending'], 'starting', 2));
        assert.ok(await store.taskRuns.transition(task.id, ['starting'], 'running', 3));
        return task.id;
      };
      await gate(waiting!);
      await store.taskRuns.update(await gate(decided!), { result: 'success' });
      await store.taskRuns.create(newTaskRun(working!));
      const full = replicaOf(t, store, 'full', { value: 0 });
      await full.start();
      assert.deepEqual(full.taken(), [waiting], 'the run only waiting for a decision, though the replica is full');
      assert.equal((await store.runs.get(decided!))?.owner, 'dead', 'a decided gate moves on: it waits for room');
      assert.equal((await store.runs.get(working!))?.owner, 'dead');
    });

    test('a replica at its cap takes nothing over, however many runs lost their owner', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('full'), LONG_MS);
      const full = replicaOf(t, store, 'full', { value: 0 });
      const lost = await orphans(store, 4);
      await full.start();
      await full.heartbeat();
      assert.equal(full.carried.size, 0);
      for (const id of lost) assert.equal((await store.runs.get(id))?.owner, 'dead');
    });
  });
}
