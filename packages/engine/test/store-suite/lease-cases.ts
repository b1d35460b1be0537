import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeaseLostError } from '../../src/domain/errors.js';
import type { Change, NewReplica, Store } from '../../src/store/types.js';
import { newEvent, newRun, newTaskRun } from './fixtures.js';
import type { StoreHarness } from './harness.js';

/** Long enough never to expire during a test, even across a VM pause. */
const LONG_MS = 10 * 60_000;

function replica(id: string): NewReplica {
  return {
    id,
    engineId: 'pilotage-test',
    host: 'test-host',
    pid: 1234,
    process: '1234.5678',
    version: '0.1.0',
    url: null,
  };
}

/** Register `id` with a lease that has already run out (1 ms, then a short wait). */
async function expired(store: Store, id: string): Promise<void> {
  await store.replicas.register(replica(id), 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A queued run, claimed by `owner` (registered with a long lease unless already registered). */
async function heldRun(store: Store, owner: string, workflow = 'build'): Promise<string> {
  const run = await store.runs.create(newRun(workflow));
  const [claimed] = await store.leases.claimQueued(owner, { limit: 1, only: [run.id] });
  assert.equal(claimed?.run.id, run.id);
  return run.id;
}

/** The cluster area: replica leases, claims, takeover, owner-checked writes, slots, the change feed. */
export function leaseCases(h: StoreHarness): void {
  describe('replicas and run leases', () => {
    test('a lease is alive until it expires or is released; an expired one is never renewed', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('a'), LONG_MS);
      await store.replicas.register(replica('b'), LONG_MS);
      assert.equal(await store.replicas.renew('a', LONG_MS), true);
      await store.replicas.release('b');
      const listed = await store.replicas.list();
      assert.deepEqual(
        listed.map((r) => [r.id, r.alive]),
        [
          ['a', true],
          ['b', false],
        ],
      );
      assert.equal(listed[0]!.expiresAt > Date.now() + LONG_MS / 2, true, 'expiry by the database clock, ms');
      assert.equal(await store.replicas.renew('b', LONG_MS), false, 'a released lease is not renewed');
      await expired(store, 'c');
      assert.equal(await store.replicas.renew('c', LONG_MS), false, 'an expired lease is not renewed');
      assert.equal(await store.replicas.renew('nobody', LONG_MS), false);
      assert.equal(await store.replicas.prune(0), 2, 'released and expired replicas holding nothing are forgotten');
      assert.deepEqual(
        (await store.replicas.list()).map((r) => r.id),
        ['a'],
      );
    });

    test('queued runs are claimed once, oldest first, within the limit and the scope', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('a'), LONG_MS);
      await store.replicas.register(replica('b'), LONG_MS);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.runs.create(newRun('build', { createdAt: i }))).id);
      const first = await store.leases.claimQueued('a', { limit: 2 });
      assert.deepEqual(
        first.map((c) => [c.run.id, c.run.owner, c.cancelRequested]),
        [
          [ids[0], 'a', null],
          [ids[1], 'a', null],
        ],
      );
      assert.deepEqual(
        (await store.leases.claimQueued('b', { limit: 10, only: [ids[0]!, ids[4]!] })).map((c) => c.run.id),
        [ids[4]],
        'only unclaimed runs of the scope',
      );
      assert.deepEqual(
        (await store.leases.claimQueued('b', { limit: 10 })).map((c) => c.run.id),
        [ids[2], ids[3]],
      );
      assert.deepEqual(await store.leases.claimQueued('a', { limit: 10 }), []);
      assert.equal((await store.runs.get(ids[0]!))?.owner, 'a');
    });

    test('replicas claiming at once never claim one run twice', async (t) => {
      const url = await h.freshUrl();
      // on SQLite one process holds the store: the claims interleave on its one connection
      const one = await h.open(t, url);
      const stores = h.dialect === 'postgres' ? [one, await h.open(t, url), await h.open(t, url)] : [one, one, one];
      for (const [i, store] of stores.entries()) await store.replicas.register(replica(`r${i}`), LONG_MS);
      const ids = new Set<string>();
      for (let i = 0; i < 60; i++) {
        const run = i % 3 === 0 ? newRun('capped', { maxRuns: 100 }) : newRun('free');
        ids.add((await stores[0]!.runs.create(run)).id);
      }
      const claims = await Promise.all(
        stores.flatMap((store, i) => Array.from({ length: 8 }, () => store.leases.claimQueued(`r${i}`, { limit: 5 }))),
      );
      const claimed = claims.flat().map((c) => c.run.id);
      assert.equal(new Set(claimed).size, claimed.length, 'no run claimed twice');
      assert.equal(claimed.length, 60);
      for (const c of claims.flat()) assert.equal((await stores[0]!.runs.get(c.run.id))?.owner, c.run.owner);
    });

    test('maxRuns holds across replicas: queued runs wait, in order, while the cap is full', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('a'), LONG_MS);
      await store.replicas.register(replica('b'), LONG_MS);
      const create = (at: number) => store.runs.create(newRun('gated', { maxRuns: 2, createdAt: at }));
      const [r1, r2, r3, r4] = [await create(1), await create(2), await create(3), await create(4)];
      assert.deepEqual(
        (await store.leases.claimQueued('a', { limit: 1 })).map((c) => c.run.id),
        [r1!.id],
      );
      assert.deepEqual(
        (await store.leases.claimQueued('b', { limit: 5 })).map((c) => c.run.id),
        [r2!.id],
        'b gets one: the cap counts what a holds',
      );
      assert.deepEqual(await store.leases.claimQueued('b', { limit: 5 }), []);
      // a run of the workflow that ends frees a place; a running one still counts
      assert.ok(await store.runs.transition(r1!.id, ['queued'], 'running', 10));
      assert.deepEqual(await store.leases.claimQueued('a', { limit: 5 }), []);
      assert.ok(await store.runs.transition(r1!.id, ['running'], 'succeeded', 11));
      assert.deepEqual(
        (await store.leases.claimQueued('a', { limit: 5, only: [r4!.id] })).map((c) => c.run.id),
        [r4!.id],
        'within a scope the oldest of the scope goes',
      );
      assert.deepEqual(await store.leases.claimQueued('b', { limit: 5 }), [], 'r3 waits: the cap is full again');
      assert.equal((await store.runs.get(r3!.id))?.owner, null);
    });

    test('a run a pilotage run process waits for is claimed by it alone, and can be ended while queued', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('cli'), LONG_MS);
      await store.replicas.register(replica('serve'), LONG_MS);
      const waited = await store.runs.create(newRun('capped', { maxRuns: 1, waiter: 'cli', createdAt: 1 }));
      const grouped = await store.runs.create(
        newRun('grouped', { concurrencyGroup: 'g', waiter: 'cli', createdAt: 2 }),
      );
      const plain = await store.runs.create(newRun('plain', { waiter: 'cli', createdAt: 3 }));
      const free = await store.runs.create(newRun('free', { createdAt: 4 }));
      assert.deepEqual(
        await store.leases.waitedQueued(),
        [waited.id, grouped.id, plain.id].sort().map((runId) => ({ runId, waiter: 'cli' })),
      );
      // another replica takes what anyone may, never what the process waits for
      assert.deepEqual(
        (await store.leases.claimQueued('serve', { limit: 10 })).map((c) => c.run.id),
        [free.id],
      );
      assert.deepEqual(
        (await store.leases.claimQueued('cli', { limit: 10, only: [waited.id, grouped.id] }))
          .map((c) => c.run.id)
          .sort(),
        [waited.id, grouped.id].sort(),
      );
      assert.deepEqual(
        (await store.leases.waitedQueued()).map((w) => w.runId),
        [plain.id],
        'a claimed run is no longer waited for',
      );
      // the process died: its queued run ends, once, with its events
      const event = newEvent(plain.id, 'dev.cdevents.pipelinerun.finished.0.3.0');
      assert.equal(await store.leases.endQueued(plain.id, 'errored', 9, 'its process died', [event]), true);
      assert.equal(await store.leases.endQueued(plain.id, 'errored', 9, 'again'), false);
      const ended = await store.runs.get(plain.id);
      assert.deepEqual([ended?.state, ended?.reason, ended?.endedAt], ['errored', 'its process died', 9]);
      assert.deepEqual(
        (await store.outbox.listByRun(plain.id)).map((e) => e.id),
        [event.id],
      );
      assert.deepEqual(await store.leases.waitedQueued(), []);
    });

    test('runs of an expired or released replica are taken over; a live replica keeps its own', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('live'), LONG_MS);
      await store.replicas.register(replica('taker'), LONG_MS);
      const kept = await heldRun(store, 'live');
      await store.replicas.register(replica('dead'), LONG_MS);
      const lost = await heldRun(store, 'dead');
      assert.ok(await store.runs.transition(lost, ['queued'], 'running', 5));
      const ended = await heldRun(store, 'dead');
      assert.ok(await store.runs.transition(ended, ['queued'], 'cancelled', 5));
      assert.deepEqual(await store.leases.takeOver('taker', 10), [], 'no steal before the lease expires');
      // the dead holder had recorded a cancel asked of it: whoever takes the run over acts on it
      assert.equal(await store.leases.requestCancel(lost, 'asked of the dead holder'), 1);
      await expired(store, 'dead');
      const taken = await store.leases.takeOver('taker', 10);
      assert.deepEqual(
        taken.map((c) => [c.run.id, c.run.owner, c.run.state, c.cancelRequested, c.cancels]),
        [[lost, 'taker', 'running', 'asked of the dead holder', 1]],
      );
      assert.equal((await store.runs.get(kept))?.owner, 'live');
      assert.equal((await store.runs.get(ended))?.owner, 'dead', 'an ended run keeps who ended it');
      // a replica that lets go (stopping): its running runs are taken at once
      assert.equal(await store.leases.releaseAll('live'), 1);
      assert.ok(await store.runs.transition(kept, ['queued'], 'running', 6));
      assert.deepEqual(
        (await store.leases.takeOver('taker', 10)).map((c) => c.run.id),
        [kept],
      );
    });

    test('a replica that lost its lease can no longer write to the run: nothing it writes lands', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('old'), LONG_MS);
      const runId = await heldRun(store, 'old');
      const old = store.ownedBy('old');
      const task = await old.taskRuns.create(newTaskRun(runId));
      assert.ok(await old.runs.transition(runId, ['queued'], 'running', 10), 'the holder writes');
      assert.ok(await old.taskRuns.transition(task.id, ['pending'], 'starting', 11));
      await old.logs.append(task.id, [{ at: 12, stream: 'stdout', line: 'one' }]);
      // its lease runs out and another replica takes the run over
      await expired(store, 'old');
      await store.replicas.register(replica('new'), LONG_MS);
      assert.equal((await store.leases.takeOver('new', 10)).length, 1);
      const before = await store.transitions.list(task.id);
      await assert.rejects(old.runs.transition(runId, ['running'], 'succeeded', 20), LeaseLostError);
      await assert.rejects(old.taskRuns.transition(task.id, ['starting'], 'running', 20), LeaseLostError);
      await assert.rejects(old.taskRuns.update(task.id, { message: 'late' }), LeaseLostError);
      await assert.rejects(old.taskRuns.markStep(task.id, 'task-start', 20), LeaseLostError);
      await assert.rejects(old.taskRuns.create(newTaskRun(runId)), LeaseLostError);
      await assert.rejects(old.logs.append(task.id, [{ at: 21, stream: 'stdout', line: 'late' }]), LeaseLostError);
      await assert.rejects(
        old.taskRuns.transition(task.id, ['starting'], 'failed', 22, {}, [], [{ at: 22, stream: 'stderr', line: 'x' }]),
        LeaseLostError,
        'an end with its last lines: neither lands',
      );
      await assert.rejects(
        old.taskRuns.transition(task.id, ['pending'], 'failed', 22, {}, [], [{ at: 22, stream: 'stderr', line: 'x' }]),
        LeaseLostError,
        'nor do the lines of a move that would have missed',
      );
      await assert.rejects(old.taskRuns.create(newTaskRun(runId, { state: 'starting' })), LeaseLostError);
      assert.equal((await store.runs.get(runId))?.state, 'running');
      const now = await store.taskRuns.get(task.id);
      assert.equal(now?.state, 'starting');
      assert.equal(now?.message, null);
      assert.deepEqual(now?.steps, {});
      assert.deepEqual(await store.transitions.list(task.id), before);
      assert.equal((await store.taskRuns.listByRun(runId)).length, 1);
      assert.deepEqual(
        (await store.logs.read(task.id)).map((l) => l.line),
        ['one'],
      );
      // the new holder writes; a compare-and-set that merely misses is still just false
      const fresh = store.ownedBy('new');
      assert.ok(await fresh.taskRuns.transition(task.id, ['starting'], 'running', 30));
      assert.equal(await fresh.runs.transition(runId, ['queued'], 'running', 31), false);
      await fresh.taskRuns.markStep(task.id, 'task-start', 32);
      await fresh.taskRuns.markStep(task.id, 'task-start', 33);
      assert.deepEqual((await store.taskRuns.get(task.id))?.steps, { 'task-start': 32 });
      // a revoked view refuses everything, reads included
      fresh.revoke();
      await assert.rejects(fresh.runs.get(runId), LeaseLostError);
      assert.equal((await store.runs.get(runId))?.owner, 'new', 'the store itself is not revoked');
    });

    test('cancels and decisions are recorded for the holder; an unclaimed queued run is cancelled at once', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('a'), LONG_MS);
      const free = await store.runs.create(newRun());
      assert.equal(await store.leases.cancelQueued(free.id, 5, 'stop'), true);
      assert.equal((await store.runs.get(free.id))?.state, 'cancelled');
      const held = await heldRun(store, 'a');
      assert.equal(await store.leases.cancelQueued(held, 6, 'stop'), false, 'a claimed run is its holder’s to cancel');
      assert.equal(await store.leases.requestCancel(held, 'first'), 1);
      assert.deepEqual(await store.leases.cancelRequests('a'), [{ runId: held, reason: 'first', count: 1 }]);
      assert.deepEqual(
        await store.leases.cancelRequests('a'),
        [{ runId: held, reason: 'first', count: 1 }],
        'reading them does not use them up (every heartbeat reads them)',
      );
      assert.equal(await store.leases.requestCancel(held, 'second'), 2, 'each request counts');
      assert.deepEqual(await store.leases.cancelRequests('a'), [{ runId: held, reason: 'first', count: 2 }]);
      assert.equal(await store.leases.requestCancel(free.id, 'late'), 0, 'an ended run takes no cancel');
      // a gate (executor none) decided on any replica, found by its holder
      const owned = store.ownedBy('a');
      assert.ok(await owned.runs.transition(held, ['queued'], 'running', 7));
      const gate = await owned.taskRuns.create(newTaskRun(held, { executor: 'none', component: 'builtin:approval@1' }));
      assert.equal(
        await store.taskRuns.decide(gate.id, { result: 'success', output: { by: 'x' }, message: 'm' }),
        false,
      );
      assert.ok(await owned.taskRuns.transition(gate.id, ['pending'], 'running', 8));
      assert.deepEqual(await store.leases.decidedGates('a'), []);
      const decision = {
        result: 'failure' as const,
        output: { approved: false, by: 'bob' },
        message: 'rejected by bob',
      };
      assert.equal(await store.taskRuns.decide(gate.id, decision), true);
      assert.equal(await store.taskRuns.decide(gate.id, { ...decision, result: 'success' }), false, 'the first wins');
      assert.deepEqual(await store.leases.decidedGates('a'), [{ runId: held, taskRunId: gate.id }]);
      const decided = await store.taskRuns.get(gate.id);
      assert.deepEqual(
        [decided?.result, decided?.output, decided?.message],
        ['failure', decision.output, decision.message],
      );
    });

    test('task slots: at most the limit across replicas; an expired holder’s slots are free', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('a'), LONG_MS);
      await store.replicas.register(replica('b'), LONG_MS);
      const a1 = await store.slots.acquire('a', 't1', 3);
      const b1 = await store.slots.acquire('b', 't2', 3);
      const a2 = await store.slots.acquire('a', 't3', 3);
      assert.deepEqual(new Set([a1, b1, a2]), new Set([0, 1, 2]));
      assert.equal(await store.slots.acquire('b', 't4', 3), undefined, 'all three held');
      assert.equal(await store.slots.held(), 3);
      await store.slots.release('b', a1!);
      assert.equal(await store.slots.acquire('b', 't4', 3), undefined, 'only the holder gives a slot back');
      await store.slots.release('a', a1!);
      assert.equal(await store.slots.acquire('b', 't4', 3), a1);
      await expired(store, 'a');
      assert.equal(await store.slots.held(), 2);
      assert.equal(await store.slots.acquire('b', 't5', 3), a2, "an expired replica's slot is taken");
      assert.equal(await store.slots.acquire('b', 't6', 4), 3, 'a larger limit adds slots');
    });

    test('task slots in bulk: several taken in one write, as many as are free; given back in one', async (t) => {
      const store = await h.fresh(t);
      await store.replicas.register(replica('a'), LONG_MS);
      await store.replicas.register(replica('b'), LONG_MS);
      assert.deepEqual(await store.slots.acquireSome('a', 5, 3), [0, 1, 2]);
      assert.deepEqual(await store.slots.acquireSome('b', 5, 4), [3, 4], 'only two left');
      assert.deepEqual(await store.slots.acquireSome('b', 5, 1), [], 'none left');
      assert.equal(await store.slots.held(), 5);
      await store.slots.releaseSome('b', [0, 1, 3]);
      assert.equal(await store.slots.held(), 4, 'only the holder gives a slot back: b gave back 3');
      await store.slots.releaseSome('a', [0, 1]);
      assert.deepEqual(await store.slots.acquireSome('b', 5, 5), [0, 1, 3]);
      assert.deepEqual(await store.slots.acquireSome('a', 5, 0), []);
    });

    test('a change published on one connection reaches every subscriber sharing the store', async (t) => {
      const url = await h.freshUrl();
      const writer = await h.open(t, url);
      const reader = h.dialect === 'postgres' ? await h.open(t, url) : writer;
      assert.equal(reader.changes.shared, h.dialect === 'postgres');
      const seen: Change[] = [];
      const off = reader.changes.subscribe((change) => {
        if (change.kind !== 'resync') seen.push(change);
      });
      t.after(off);
      // the listening connection is opened with the first subscriber: publish until one arrives
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) {
        writer.changes.publish({ kind: 'queued', runId: 'r1', origin: 'w' });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(seen[0], { kind: 'queued', runId: 'r1', origin: 'w' });
      seen.length = 0;
      writer.changes.publish({ kind: 'task', runId: 'r2', taskRunId: 't2' });
      writer.changes.publish({ kind: 'slot' });
      writer.changes.publish({ kind: 'slot' });
      while (seen.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(seen[0], { kind: 'task', runId: 'r2', taskRunId: 't2' });
      assert.deepEqual(seen[1], { kind: 'slot' });
    });

    test('a control-only subscriber hears no live-view changes; a live subscriber hears them from when it subscribes', async (t) => {
      const url = await h.freshUrl();
      const writer = await h.open(t, url);
      const reader = h.dialect === 'postgres' ? await h.open(t, url) : writer;
      const control: Change[] = [];
      const offControl = reader.changes.subscribe(
        (change) => {
          if (change.kind !== 'resync') control.push(change);
        },
        { controlOnly: true },
      );
      t.after(offControl);
      const deadline = Date.now() + 10_000;
      const until = async (done: () => boolean): Promise<void> => {
        while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      };
      // the listening connection is opened with the first subscriber: publish until one arrives
      while (control.length === 0 && Date.now() < deadline) {
        writer.changes.publish({ kind: 'queued', runId: 'r1' });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(control.length > 0, 'the control subscriber hears a queued change');
      control.length = 0;
      writer.changes.publish({ kind: 'task', runId: 'r2', taskRunId: 't2' });
      writer.changes.publish({ kind: 'log', runId: 'r2', taskRunId: 't2' });
      writer.changes.publish({ kind: 'freed', runId: 'r2' });
      await until(() => control.length > 0);
      assert.deepEqual(control, [{ kind: 'freed', runId: 'r2' }], 'live-view changes are not given to it');

      // a live subscriber: on PostgreSQL it gets a resync once its channel is listened to
      const live: Change[] = [];
      const offLive = reader.changes.subscribe((change) => live.push(change));
      if (h.dialect === 'postgres') await until(() => live.some((c) => c.kind === 'resync'));
      live.length = 0;
      control.length = 0;
      writer.changes.publish({ kind: 'run', runId: 'r3' });
      writer.changes.publish({ kind: 'queued', runId: 'r4' });
      await until(() => live.length >= 2 && control.length > 0);
      assert.deepEqual(live, [
        { kind: 'run', runId: 'r3' },
        { kind: 'queued', runId: 'r4' },
      ]);
      assert.deepEqual(control, [{ kind: 'queued', runId: 'r4' }]);

      // once the last live subscriber is gone, live-view changes stop (the control one still comes)
      offLive();
      live.length = 0;
      control.length = 0;
      writer.changes.publish({ kind: 'status', runId: 'r5', taskRunId: 't5' });
      writer.changes.publish({ kind: 'intent', runId: 'r5' });
      await until(() => control.length > 0);
      assert.deepEqual(control, [{ kind: 'intent', runId: 'r5' }]);
      assert.deepEqual(live, [], 'an unsubscribed listener hears nothing');
    });
  });
}
