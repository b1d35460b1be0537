import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SlotStore } from '../store/types.js';
import { createClusterSlots, SPARE_SLOT_MS, type TaskSlots } from './task-slots.js';

/** An in-memory `SlotStore` that counts its calls; every owner counts as live. */
function memorySlots() {
  const holders = new Map<number, string>();
  const calls = { acquire: 0, release: 0 };
  const store: SlotStore = {
    acquire(owner, _taskRunId, limit) {
      calls.acquire += 1;
      for (let slot = 0; slot < limit; slot++) {
        if (!holders.has(slot)) {
          holders.set(slot, owner);
          return Promise.resolve(slot);
        }
      }
      return Promise.resolve(undefined);
    },
    release(owner, slot) {
      calls.release += 1;
      if (holders.get(slot) === owner) holders.delete(slot);
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
  for (let i = 0; i < 5; i++) (await slots.acquire(`t${i}`))();
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
  (await a.acquire('a1'))();
  let bHas = false;
  const b = bWaits.acquire('b1').then((release) => {
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
  (await slots.acquire('t1'))();
  owner = 'new';
  const release = await slots.acquire('t2');
  assert.equal(memory.calls.acquire, 2);
  assert.equal(memory.calls.release, 1);
  assert.deepEqual([...memory.holders.values()], ['new']);
  release();
  await slots.close();
  assert.equal(memory.holders.size, 0);
});

test('close gives every spare slot back at once', async () => {
  const memory = memorySlots();
  const slots = slotsOn(memory.store, () => 'r1', 3);
  const releases = await Promise.all([slots.acquire('t1'), slots.acquire('t2'), slots.acquire('t3')]);
  for (const release of releases) release();
  assert.equal(memory.holders.size, 3);
  await slots.close();
  assert.equal(memory.holders.size, 0);
  assert.equal(memory.calls.release, 3);
});
