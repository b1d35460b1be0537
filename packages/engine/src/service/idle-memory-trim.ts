import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the server looks, ms. */
const LOOK_MS = 1_000;
/**
 * Looks in a row with an idle event loop before the first collection, and between two. V8 shrinks
 * the young generation at a collection only when its allocation rate over the last 5 s (measured
 * between collections) is low: at exactly 5 s the window still reached back into the burst about
 * half the time, so 6. Counted from when the server went idle (a fixed 5 s timer made the first
 * collection come 5–10 s after, and the young generation back 10–15 s after).
 */
const IDLE_LOOKS = 6;
/** Below this share of the last interval spent running callbacks, the event loop counts as idle. */
const IDLE_UTILIZATION = 0.05;
/** A young generation at least this large has grown under load (it starts at 1 MiB), bytes. */
const GROWN_YOUNG_BYTES = 8 * 2 ** 20;
/** The whole heap this much above the smallest size it had has grown, bytes. */
const GROWN_HEAP_BYTES = 16 * 2 ** 20;
/**
 * Collections per idle stretch at most: V8 often gives the young generation and the old pages
 * back only at the second (its allocation rate must have been low for ~5 s); what stays after the
 * last is taken as the heap's size from then on.
 */
const MAX_TRIES = 3;

/** What the trim reads and does; the defaults are V8's (tests give their own). */
export interface IdleMemoryProbe {
  /** bytes the young generation (V8's new space) holds reserved now */
  youngBytes(): number;
  /** bytes the whole V8 heap holds reserved now (every space) */
  heapBytes(): number;
  /** the share (0..1) of the time since the previous call the event loop spent busy */
  busySinceLastCall(): number;
  /** one minor collection (a scavenge), then one full collection; its own time counts as idle */
  collect(): void;
}

/** Options of `startIdleMemoryTrim`. */
export interface IdleMemoryTrimOptions {
  /** between looks, ms (default 1 000) */
  readonly checkMs?: number;
  /** idle looks in a row before a collection, and between two (default 6) */
  readonly idleLooks?: number;
  /** told what each trim gave back */
  readonly log?: (message: string) => void;
  /**
   * after each collection, give the C allocator's free memory back to the system (the native
   * addon's malloc_trim: the burst's sockets, SQLite's buffers and V8's array buffers freed by
   * the collection stay in glibc's arenas otherwise); only with the default probe
   */
  readonly trimAllocator?: () => boolean;
  readonly probe?: IdleMemoryProbe;
}

/** A running trim; `stop()` ends it (its timer never holds the process open anyway). */
export interface IdleMemoryTrim {
  stop(): void;
  /** how many times it collected */
  readonly collections: number;
}

/**
 * Give memory back once the server is idle (issue 15, target 6b: RSS returns to its baseline
 * after runs end). Under a burst of runs V8's heap grows and stays grown: the young generation
 * (its semi-spaces up to 16 MiB each) shrinks only after a collection made while the recent
 * allocation rate is low, and old-space pages are given back by V8's memory reducer, which starts
 * only after a full collection; an idle process allocates nothing, so neither ever happens.
 * Every second this looks: once the event loop has been idle for 6 s in a row and the heap
 * has grown (the young generation past its start size, or the whole heap 16 MiB past the smallest
 * size it had), it runs a minor collection (V8 then shrinks the young generation) and a full one
 * (the garbage of the burst goes, and V8 gives the freed pages back), and again 6 s later
 * (always: V8 gives some pages back only then), then every 6 s while the heap stays grown, at
 * most three times per idle stretch (busy again starts a new one): what the
 * heap still holds after the third is its size from then on. A full collection of the server's
 * heap pauses it for 20–50 ms, two or three times per burst, only when nothing was happening. An idle server whose heap is back to its size is
 * left alone.
 */
export function startIdleMemoryTrim(options: IdleMemoryTrimOptions = {}): IdleMemoryTrim {
  const probe = options.probe ?? v8Probe(options.trimAllocator);
  let collections = 0;
  /** the smallest the heap has been: what it should return to */
  let lowest = probe.heapBytes();
  /** collections in this idle stretch */
  let tries = 0;
  /** idle looks in a row since the stretch began or the last collection */
  let idle = 0;
  const idleLooks = options.idleLooks ?? IDLE_LOOKS;
  probe.busySinceLastCall();
  const timer = setInterval(() => {
    if (probe.busySinceLastCall() >= IDLE_UTILIZATION) {
      tries = 0;
      idle = 0;
      return;
    }
    idle += 1;
    if (idle < idleLooks) return;
    const heap = probe.heapBytes();
    lowest = Math.min(lowest, heap);
    const grown = probe.youngBytes() >= GROWN_YOUNG_BYTES || heap >= lowest + GROWN_HEAP_BYTES;
    // the first collection is always followed by a second: at the first, V8 often shrinks its
    // figures but gives the pages back only at the next collection (the server's RSS stayed
    // ~30 MB up in bench:memory:serve when the heap looked small enough to stop after one)
    if (tries > MAX_TRIES || (!grown && tries !== 1)) return;
    if (tries === MAX_TRIES) {
      // what stays after the last try is live: the heap's size from now on
      lowest = heap;
      tries += 1;
      return;
    }
    const began = performance.now();
    probe.collect();
    collections += 1;
    tries += 1;
    idle = 0;
    options.log?.(
      `idle: collected in ${(performance.now() - began).toFixed(0)} ms; the V8 heap went from ` +
        `${mib(heap)} to ${mib(probe.heapBytes())} MiB (more is given back over the next seconds)`,
    );
  }, options.checkMs ?? LOOK_MS);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get collections() {
      return collections;
    },
  };
}

/**
 * The probe over this process's V8 (and, given `trimAllocator`, its C allocator after each
 * collection). The collection function is the one `--expose-gc` gives,
 * taken from a fresh context with the flag set for that moment only, so that no `gc` global
 * appears in the server's own context (and `node --expose-gc` works as well).
 */
function v8Probe(trimAllocator?: () => boolean): IdleMemoryProbe {
  const gc = exposedGc();
  let last = performance.eventLoopUtilization();
  return {
    youngBytes: () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0,
    heapBytes: () => getHeapStatistics().total_heap_size,
    busySinceLastCall() {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return busy;
    },
    collect() {
      gc({ type: 'minor' });
      // no argument: a full, synchronous collection (Node 20's V8 reads no `type: 'major'` option)
      gc();
      trimAllocator?.();
      // the next look judges the server's own work: a collection of 50 ms is 5% of a second
      last = performance.eventLoopUtilization();
    },
  };
}

type GcFunction = (options?: { readonly type: 'minor' }) => void;

function exposedGc(): GcFunction {
  const own = (globalThis as { gc?: GcFunction }).gc;
  if (typeof own === 'function') return own;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as GcFunction;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
