import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { setTimeout as delay } from 'node:timers/promises';
import { nativeSpawnAddon } from '../executor/local/native-spawn.js';
import { startIdleMemoryTrim, type IdleMemoryProbe } from './idle-memory-trim.js';

const MIB = 2 ** 20;

interface FakeState {
  busy: number;
  young: number;
  heap: number;
  /** what a collection leaves (when set) */
  after?: { young: number; heap: number };
  /** when set, the busy share the n-th call of busySinceLastCall answers (1: the trim's start) */
  busyAt?: (call: number) => number;
}

/**
 * A probe whose answers the test sets; counts the collections asked for. `looks(n)` resolves
 * once the trim has looked `n` more times (it asks `busySinceLastCall` once a look), so the tests
 * wait for looks, not for time.
 */
function fakeProbe(
  state: FakeState,
): IdleMemoryProbe & { collections: number; collectedAt: number[]; looks(n: number): Promise<void> } {
  let looked = 0;
  const waiting: { at: number; resolve: () => void }[] = [];
  const probe = {
    collections: 0,
    /** the call of busySinceLastCall whose look collected, for each collection */
    collectedAt: [] as number[],
    looks: (n: number) =>
      new Promise<void>((resolve) => {
        // the trim's timer is unref'd: hold the process open meanwhile
        const hold = setTimeout(() => undefined, 60_000);
        waiting.push({
          at: looked + n,
          resolve: () => {
            clearTimeout(hold);
            resolve();
          },
        });
      }),
    youngBytes: () => state.young,
    heapBytes: () => state.heap,
    busySinceLastCall: () => {
      looked += 1;
      // resolved after this look has been acted on
      for (const w of waiting.filter((x) => x.at < looked)) {
        waiting.splice(waiting.indexOf(w), 1);
        setImmediate(w.resolve);
      }
      return state.busyAt?.(looked) ?? state.busy;
    },
    collect() {
      probe.collections += 1;
      probe.collectedAt.push(looked);
      if (state.after !== undefined) Object.assign(state, state.after);
    },
  };
  return probe;
}

const youngBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

describe('startIdleMemoryTrim', () => {
  test('collects once the loop is idle and the young generation has grown, once more at the next idle look, then leaves it alone', async () => {
    const state: FakeState = { busy: 0.5, young: 32 * MIB, heap: 80 * MIB, after: { young: 1 * MIB, heap: 50 * MIB } };
    const probe = fakeProbe(state);
    const messages: string[] = [];
    const trim = startIdleMemoryTrim({ checkMs: 5, idleLooks: 1, probe, log: (m) => messages.push(m) });
    try {
      await probe.looks(3);
      assert.equal(probe.collections, 0, 'collected while busy');
      state.busy = 0.01;
      await probe.looks(3);
      assert.equal(probe.collections, 2, 'one collection once idle, and one more after, whatever the heap says');
      assert.equal(probe.collectedAt[1], probe.collectedAt[0]! + 1, 'the second at the next idle look');
      assert.equal(trim.collections, 2);
      assert.match(messages[0] ?? '', /the V8 heap went from 80\.0 to 50\.0 MiB/);
      assert.match(messages[1] ?? '', /the V8 heap went from 50\.0 to 50\.0 MiB/);
      await probe.looks(3);
      assert.equal(probe.collections, 2, 'collected again although the heap is back to its size');
    } finally {
      trim.stop();
    }
  });

  test('a heap grown 16 MiB past its size after the last trim is collected, a smaller growth is not', async () => {
    const state: FakeState = { busy: 0, young: 1 * MIB, heap: 40 * MIB };
    const probe = fakeProbe(state);
    const trim = startIdleMemoryTrim({ checkMs: 5, idleLooks: 1, probe });
    try {
      state.heap = 50 * MIB;
      await probe.looks(3);
      assert.equal(probe.collections, 0, '10 MiB more is not growth enough');
      state.heap = 57 * MIB;
      state.after = { young: 1 * MIB, heap: 45 * MIB };
      await probe.looks(3);
      assert.equal(probe.collections, 2, 'grown: collected, and once more after');
      // V8 gives more back later: the next growth is judged from the lowest size seen since
      state.heap = 38 * MIB;
      await probe.looks(2);
      state.heap = 50 * MIB;
      await probe.looks(3);
      assert.equal(probe.collections, 2, '12 MiB over the lowest size is not growth enough');
      state.heap = 55 * MIB;
      await probe.looks(3);
      assert.equal(probe.collections, 3);
      trim.stop();
      state.young = 32 * MIB;
      await delay(30);
      assert.equal(probe.collections, 3, 'stop() ends it');
    } finally {
      trim.stop();
    }
  });

  test('a heap that stays grown is collected three times per idle stretch, then taken as its size', async () => {
    const state: FakeState = { busy: 0, young: 1 * MIB, heap: 40 * MIB };
    const probe = fakeProbe(state);
    const trim = startIdleMemoryTrim({ checkMs: 5, idleLooks: 1, probe });
    try {
      state.heap = 80 * MIB; // live data: collections give nothing back
      await probe.looks(6);
      assert.equal(probe.collections, 3, 'three tries in one idle stretch');
      state.busy = 0.5;
      await probe.looks(2);
      state.busy = 0;
      state.heap = 90 * MIB;
      await probe.looks(3);
      assert.equal(probe.collections, 3, '80 MiB became its size: 10 MiB more is not growth enough');
      state.heap = 97 * MIB;
      await probe.looks(3);
      assert.ok(probe.collections > 3, 'grown 16 MiB past its new size');
    } finally {
      trim.stop();
    }
  });

  test('by default it collects after 6 idle looks in a row (a busy one starts again), then every 6 idle looks, 3 times', async () => {
    // call 1 is the trim's start; looks are calls 2, 3…; the loop is busy at call 5 only
    const state: FakeState = { busy: 0, young: 32 * MIB, heap: 80 * MIB, busyAt: (call) => (call === 5 ? 0.5 : 0.01) };
    const probe = fakeProbe(state);
    const trim = startIdleMemoryTrim({ checkMs: 5, probe });
    try {
      await probe.looks(30);
      // idle looks 6–11: the first collection; 12–17 and 18–23 the next; the heap stays grown,
      // so after the third its size is taken as it is
      assert.deepEqual(probe.collectedAt, [11, 17, 23]);
    } finally {
      trim.stop();
    }
  });

  test('with V8: after a burst, an idle process gets its young generation back and its garbage collected', async () => {
    // a burst whose objects survive a scavenge or two: V8 grows the young generation for it
    let keep: object[] = [];
    for (let i = 0; i < 3_000_000; i++) {
      keep.push({ i, text: `item ${i}` });
      if (keep.length > 200_000) keep = [];
    }
    keep = [];
    const grown = youngBytes();
    assert.ok(grown >= 8 * MIB, `the burst did not grow the young generation (${grown} bytes)`);
    let allocatorTrims = 0;
    const trim = startIdleMemoryTrim({
      checkMs: 500,
      trimAllocator: () => {
        allocatorTrims += 1;
        return nativeSpawnAddon()?.trim() ?? false;
      },
    });
    try {
      // V8 shrinks after a collection once its allocation rate over ~5 s is low: give it 60 s
      for (let waited = 0; youngBytes() >= 8 * MIB && waited < 60_000; waited += 250) await delay(250);
      assert.ok(youngBytes() < 8 * MIB, `still ${youngBytes()} bytes after ${trim.collections} collections`);
      assert.ok(trim.collections >= 1);
      assert.equal(allocatorTrims, trim.collections, 'the C allocator trimmed after each collection');
      assert.ok(getHeapStatistics().used_heap_size < 64 * MIB, 'the garbage of the burst was collected');
    } finally {
      trim.stop();
    }
  });
});
