import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SlotStore } from '../store/types.js';
import { createClusterSlots, SPARE_SLOT_MS, type TaskSlots } from './task-slots.js';

/** An in-memory `SlotStore` that counts its calls; every owner counts as live. */
function memorySlots() {
  const holders = new Map<number, string>();
  const calls = { acquire: 0, release: 0 };
  const take = (owner: string, limit: number, count: number): number[] => {
    const taken: number[] = [];
    for (let slot = 0; slot < limit && taken.length < count; slot++) {
      if (!holders.has(slot)) {
        holders.set(slot, owner);
        taken.push(slot);
      }
    }
    return taken;
  };
  const give = (owner: string, slots: readonly number[]): void => {
    for (const slot of slots) if (holders.get(slot) === owner) holders.delete(slot);
  };
  // each call is one store write
  const store: SlotStore = {
    acquire(owner, _taskRunId, limit) {
      calls.acquire += 1;
      return Promise.resolve(take(owner, limit, 1)[0]);
    },
    acquireSome(owner, limit, count) {
      calls.acquire += 1;
      return Promise.resolve(take(owner, limit, count));
    },
    release(owner, slot) {
      calls.release += 1;
      give(owner, [slot]);
      return Promise.resolve();
    },
    releaseSome(owner, slots) {
      calls.release += 1;
      give(owner, slots);
      return Promise.resolve();
    },
    held: () => Promise.resolve(holders.size),
  };
  return { store, holders, calls };
}

function slotsOn(store: SlotStore, owner: () => string | undefined, limit: number, released = () => undefined) {
  return createClusterSlots({ store, owner, limit, released, warn: (m) => assert.fail(m) });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(SPARE_SLOT_MS / 2);
  assert.ok(condition(), 'the condition never held');
}

test('one attempt after another reuses the slot: one store write to take it, one to give it back', async () => {
  const memory = memorySlots();
  let published = 0;
  const slots = slotsOn(
    memory.store,
    () => 'r1',
    4,
    () => void (published += 1),
  );
  for (let i = 0; i < 5; i++) (await slots.acquire())();
  assert.deepEqual(memory.calls, { acquire: 1, release: 0 });
  assert.equal(memory.holders.get(0), 'r1', 'the spare slot stays held in the store meanwhile');
  await until(() => memory.calls.release === 1);
  assert.equal(memory.holders.size, 0);
  assert.equal(published, 1, 'giving the slot back is told to the other replicas');
});

test('a spare slot counts against the cap: another replica gets it only once it is given back', async () => {
  const memory = memorySlots();
  const a = slotsOn(memory.store, () => 'a', 1);
  const bWaits: TaskSlots = slotsOn(memory.store, () => 'b', 1);
  (await a.acquire())();
  let bHas = false;
  const b = bWaits.acquire().then((release) => {
    bHas = true;
    assert.equal(memory.holders.size, 1, 'never two holders of one slot');
    return release;
  });
  assert.equal(bHas, false);
  // the spare is given back after SPARE_SLOT_MS; b asks again when woken or polled
  await until(() => memory.calls.release >= 1);
  bWaits.wake();
  (await b)();
  assert.equal(bHas, true);
  await bWaits.close();
  assert.equal(memory.holders.size, 0);
});

test('a spare slot held under an earlier lease is given back, not reused under the new one', async () => {
  const memory = memorySlots();
  let owner = 'old';
  const slots = slotsOn(memory.store, () => owner, 2);
  (await slots.acquire())();
  owner = 'new';
  const release = await slots.acquire();
  assert.equal(memory.calls.acquire, 2);
  assert.equal(memory.calls.release, 1);
  assert.deepEqual([...memory.holders.values()], ['new']);
  release();
  await slots.close();
  assert.equal(memory.holders.size, 0);
});

test('a burst takes its slots in one store write; close gives every spare back in one', async () => {
  const memory = memorySlots();
  const slots = slotsOn(memory.store, () => 'r1', 3);
  const releases = await Promise.all([slots.acquire(), slots.acquire(), slots.acquire()]);
  assert.equal(memory.calls.acquire, 1, 'three attempts waiting at once: one write');
  assert.equal(memory.holders.size, 3);
  for (const release of releases) release();
  assert.equal(memory.holders.size, 3, 'kept as spares');
  await slots.close();
  assert.equal(memory.holders.size, 0);
  assert.equal(memory.calls.release, 1);
});

test('spare slots due together are given back in one store write', async () => {
  const memory = memorySlots();
  const slots = slotsOn(memory.store, () => 'r1', 4);
  const releases = await Promise.all([slots.acquire(), slots.acquire(), slots.acquire(), slots.acquire()]);
  for (const release of releases) release();
  await until(() => memory.holders.size === 0);
  assert.equal(memory.calls.release, 1);
});

test('a burst larger than what is free takes what is free; the rest wait and get theirs as slots come back', async () => {
  const memory = memorySlots();
  await memory.store.acquireSome('other', 2, 2);
  const slots = slotsOn(memory.store, () => 'r1', 2);
  let got = 0;
  const waiting = [slots.acquire(), slots.acquire()].map((p) => p.then((release) => ((got += 1), release)));
  await sleep(SPARE_SLOT_MS);
  assert.equal(got, 0, 'nothing free');
  await memory.store.release('other', 0);
  slots.wake();
  const first = await Promise.race(waiting);
  assert.equal(got, 1);
  first();
  for (const release of await Promise.all(waiting)) release();
  assert.equal(got, 2);
  await slots.close();
  assert.equal(memory.holders.size, 1, 'only the other replica’s slot is held');
});
