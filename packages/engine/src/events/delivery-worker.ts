import type { DeliveryStore, OutboxRecord, PendingDelivery as Pending } from '../store/types.js';
import { backoffDelayMs, DELIVERY_DEFAULTS, type DeliveryBackoff } from './delivery-backoff.js';
import { SinkCircuit } from './sink-circuit.js';
import { createSinkLeaseHolder, type SinkLeaseOptions } from './sink-lease-holder.js';
import type { Sink } from './sinks/sink.js';

/** Options of `startDeliveryWorker`. */
export interface DeliveryWorkerOptions {
  readonly deliveries: DeliveryStore;
  readonly sinks: readonly Sink[];
  /**
   * how long a delivery is retried after its first failed attempt before it goes to the
   * dead-letter state, ms (default 24 h)
   */
  readonly retryWindowMs?: number;
  /** attempts before a delivery goes to the dead-letter state even within the window (default: no limit) */
  readonly maxAttempts?: number;
  /** default `{ initialMs: 500, factor: 2, maxMs: 60000 }` (the cap: `PILOTAGE_EVENTS_MAX_BACKOFF`) */
  readonly backoff?: Partial<DeliveryBackoff>;
  /** how often the outbox is looked at without a `kick()`, ms (default 250) */
  readonly pollMs?: number;
  /** deliveries read per sink per pass (default 500) */
  readonly batchSize?: number;
  /** runs delivered at the same time per sink (default 4) */
  readonly concurrency?: number;
  /** clock, epoch ms (default `Date.now`) */
  readonly now?: () => number;
  /** a store error in the background loop (default: printed to stderr); the loop goes on */
  readonly onError?: (error: unknown) => void;
  /**
   * told when a sink's circuit opens (sends in a row found it unavailable: nothing is sent to it
   * but one probe now and then) or closes again (a send got through); `error` is the last failure
   */
  readonly onCircuit?: (sink: string, state: 'opened' | 'closed', error: unknown) => void;
  /** called after each successful delivery (metrics, benchmarks) */
  readonly onDelivered?: (sink: string, event: OutboxRecord, at: number) => void;
  /**
   * Deliver to a sink only while holding its lease, so that of several workers sharing one store
   * (engine replicas on one PostgreSQL, or `pilotage run` beside `pilotage serve` on one SQLite
   * file) one at a time sends to each sink. Absent: this worker assumes it is alone.
   */
  readonly lease?: SinkLeaseOptions;
}

/** A running delivery worker. */
export interface DeliveryWorker {
  /** Look at the outbox now (the engine calls it after writing events). Never throws. */
  kick(): void;
  /**
   * Deliver until nothing is pending, retrying failures as scheduled, for at most `timeoutMs`.
   * Resolves early when every remaining delivery's next attempt falls after the deadline, with
   * the number of deliveries still pending (0: everything delivered or dead).
   */
  drain(timeoutMs: number): Promise<{ pending: number }>;
  /** Stop polling, clear timers and wait for the sends in flight. Safe to repeat. */
  stop(): Promise<void>;
}

/**
 * Outbox rows below the highest seq seen that a pass still looks at for new events: on PostgreSQL
 * a transaction may commit seq 7 after seq 8 was seen. Older stragglers are found by the full scan
 * every `FULL_SCAN_MS`.
 */
const ENQUEUE_WINDOW = 1000;
/** How often a pass looks at the whole outbox for events without a delivery row, ms. */
const FULL_SCAN_MS = 30_000;

/** Why a due event was not sent: its sink's circuit is open (recorded as the attempt's error). */
const CIRCUIT_OPEN = 'not sent: the sink is unavailable (its last sends failed); tried again with the next probe';

/** What one pass over all sinks left behind. */
interface PassResult {
  /** deliveries still pending after the pass (beyond a full batch: at most one more batch counted) */
  readonly pending: number;
  /** earliest epoch ms at which one of them may be attempted (Infinity: none) */
  readonly nextAt: number;
}

/**
 * Deliver outbox events to every sink: at least once, in run order (`runSeq`) per run and sink.
 *
 * Each pass, per sink: create delivery rows for new outbox events (`enqueueNew`: the outbox
 * near the highest seq seen, and all of it every 30 s and on the first pass), read the
 * pending ones oldest first, and walk each run's events in order. An event not yet due, one
 * whose attempt fails, or one whose run's previous event has no delivery row yet holds back the
 * later events of its run for that sink (other runs and other sinks go on). A failure is
 * recorded with the next attempt after capped exponential backoff; once `retryWindowMs` has
 * passed since the first failed attempt (or after `maxAttempts`, when set) the delivery is
 * `dead`, and so are the run's later events for that sink (`markHeldBack`, without an attempt),
 * so the run's order survives: `redeliver` moves a run's dead letters back in order. Events
 * whose type a sink does not accept are marked delivered without being sent. Events without a
 * run are independent of each other.
 *
 * Several workers on one store: give each a `lease` (same store, distinct owners); each sink is
 * then served by one of them at a time, and taken over by another when its holder stops renewing
 * (a crash) or releases it (`stop`). Without leases, each would send (still at least once).
 * Stop the worker before closing the store.
 */
export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const store = options.deliveries;
  const sinks = [...options.sinks];
  const names = new Set<string>();
  for (const sink of sinks) {
    if (names.has(sink.name)) throw new Error(`two events sinks are named "${sink.name}"; names must be unique`);
    names.add(sink.name);
  }
  const maxAttempts = Math.max(1, options.maxAttempts ?? DELIVERY_DEFAULTS.maxAttempts);
  const retryWindowMs = Math.max(0, options.retryWindowMs ?? DELIVERY_DEFAULTS.retryWindowMs);
  const backoff: DeliveryBackoff = { ...DELIVERY_DEFAULTS.backoff, ...options.backoff };
  const pollMs = options.pollMs ?? DELIVERY_DEFAULTS.pollMs;
  const batchSize = options.batchSize ?? DELIVERY_DEFAULTS.batchSize;
  const concurrency = Math.max(1, options.concurrency ?? DELIVERY_DEFAULTS.concurrency);
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error: unknown) => console.error('pilotage: events delivery:', error));
  const leases = createSinkLeaseHolder(options.lease, now);
  /** per sink: the highest event seq seen pending, and when the whole outbox was last scanned */
  const scans = new Map(sinks.map((sink) => [sink.name, { highWater: 0, fullAt: -Infinity }]));
  /** per sink: its circuit breaker (first wait twice the first backoff, the longest the cap) */
  const circuits = new Map(
    sinks.map((sink) => [
      sink.name,
      new SinkCircuit({ firstWaitMs: backoff.initialMs * 2, maxWaitMs: backoff.maxMs, now }),
    ]),
  );

  /**
   * Create delivery rows for new events: near the highest seq seen (cheap: the per-row check
   * stays within a window instead of the whole outbox), and over the whole outbox now and then.
   */
  async function enqueue(sink: string): Promise<void> {
    const scan = scans.get(sink)!;
    const at = now();
    if (at - scan.fullAt >= FULL_SCAN_MS) {
      scan.fullAt = at;
      await store.enqueueNew(sink, at);
    } else {
      await store.enqueueNew(sink, at, Math.max(0, scan.highWater - ENQUEUE_WINDOW));
    }
  }

  function sawPending(sink: string, rows: readonly Pending[]): void {
    const scan = scans.get(sink)!;
    for (const row of rows) scan.highWater = Math.max(scan.highWater, row.eventSeq);
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<PassResult> | undefined;
  let again = false;
  let last: PassResult = { pending: 0, nextAt: Infinity };
  /** wake-ups of `drain` waits, so `stop()` leaves no timer behind */
  const sleepers = new Set<() => void>();

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  /** Dead-letter `items` without sending them: the run's event `deadId` before them is a dead letter. */
  async function holdBack(sink: Sink, items: readonly Pending[], deadId: string): Promise<void> {
    const reason = `held back: an earlier event of its run (${deadId}) is a dead letter; redeliver them in order`;
    for (const d of items) await store.markHeldBack(sink.name, d.eventSeq, reason);
  }

  async function deliverRun(sink: Sink, items: readonly Pending[]): Promise<{ left: number; nextAt: number }> {
    for (let i = 0; i < items.length; i++) {
      const d = items[i]!;
      const at = now();
      if (d.previous === 'dead') {
        // The run's previous event is a dead letter: sending this one would break the run's order.
        await holdBack(sink, items.slice(i), `the one before ${d.eventId}`);
        return { left: 0, nextAt: Infinity };
      }
      if (d.nextAttemptAt > at) return { left: items.length - i, nextAt: d.nextAttemptAt };
      if (stopped) return { left: items.length - i, nextAt: at };
      if (d.previous === 'missing') {
        // The run's previous event has no delivery row yet (committed outside the bounded scan's
        // window): wait for it, and look at the whole outbox at the next pass.
        scans.get(sink.name)!.fullAt = -Infinity;
        return { left: items.length - i, nextAt: at + pollMs };
      }
      // Lost the sink to another worker (we were paused past our lease): leave the rest to it.
      if (!(await leases.hold(sink.name))) return { left: items.length - i, nextAt: at + pollMs };
      if (!sink.accepts(d.type)) {
        await store.markDelivered(sink.name, d.eventSeq, at);
        continue;
      }
      // While the sink's circuit is open, a due event is not sent but failed as if it had been
      // (it ages toward the retry window as before), and comes due again with the next probe.
      const circuit = circuits.get(sink.name)!;
      let turn = circuit.take();
      // a probe out: its outcome decides (the sink back: every lane sends at once)
      while (turn === 'wait' && circuit.probeSettled() !== undefined) {
        await circuit.probeSettled();
        turn = circuit.take();
      }
      let failure: { readonly error: unknown } | undefined;
      if (turn === 'wait') {
        failure = { error: new Error(CIRCUIT_OPEN) };
      } else {
        try {
          await sink.send(d.event);
        } catch (error) {
          failure = { error };
        }
        const changed = circuit.settle(turn, failure);
        if (changed !== undefined) options.onCircuit?.(sink.name, changed, failure?.error);
      }
      if (failure !== undefined) {
        const failedAt = now();
        const attempts = d.attempts + 1;
        const dead = attempts >= maxAttempts || failedAt - (d.firstFailedAt ?? failedAt) >= retryWindowMs;
        const nextAt = turn === 'wait' ? circuit.retryAt : failedAt + backoffDelayMs(backoff, attempts);
        await store.markFailed(sink.name, d.eventSeq, describe(failure.error), nextAt, dead, failedAt);
        if (!dead) return { left: items.length - i, nextAt };
        // A dead letter holds its run's later events back: they become dead letters too.
        if (d.runId !== null) {
          await holdBack(sink, items.slice(i + 1), d.eventId);
          return { left: 0, nextAt: Infinity };
        }
        continue;
      }
      const deliveredAt = now();
      await store.markDelivered(sink.name, d.eventSeq, deliveredAt);
      options.onDelivered?.(sink.name, d.event, deliveredAt);
    }
    return { left: 0, nextAt: Infinity };
  }

  async function passSink(sink: Sink): Promise<PassResult> {
    // Every worker enqueues (idempotent), so that the backlog below counts its own new events.
    await enqueue(sink.name);
    if (!(await leases.hold(sink.name))) {
      // Another worker delivers to this sink. Report its backlog (so `drain` waits for it) and
      // try for the lease again at the next poll, in case that worker went away.
      const backlog = await store.listPending(sink.name, batchSize);
      sawPending(sink.name, backlog);
      return { pending: backlog.length, nextAt: now() + pollMs };
    }
    const pending = await store.listPending(sink.name, batchSize);
    sawPending(sink.name, pending);
    // Group by run, keeping event order; events without a run are each on their own.
    const groups = new Map<string, Pending[]>();
    for (const d of pending) {
      const key = d.runId === null ? `event:${d.eventSeq}` : `run:${d.runId}`;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = []));
      group.push(d);
    }
    const queue = [...groups.values()];
    let left = 0;
    let nextAt = Infinity;
    const lane = async (): Promise<void> => {
      for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
        const result = await deliverRun(sink, group);
        left += result.left;
        nextAt = Math.min(nextAt, result.nextAt);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, lane));
    // A full batch may hide more rows behind it: count them (up to a batch, so `drain` does
    // not take the end of this batch for the end of the work) and look again right away.
    if (pending.length >= batchSize) {
      left += (await store.listPending(sink.name, batchSize)).length;
      nextAt = Math.min(nextAt, now());
    }
    return { pending: left, nextAt };
  }

  async function pass(): Promise<PassResult> {
    const results = await Promise.all(sinks.map((sink) => passSink(sink)));
    return {
      pending: results.reduce((sum, r) => sum + r.pending, 0),
      nextAt: results.reduce((min, r) => Math.min(min, r.nextAt), Infinity),
    };
  }

  /** Run one pass, or join the one in flight. */
  function runPass(): Promise<PassResult> {
    if (current !== undefined) return current;
    const p = pass()
      .then((result) => {
        last = result;
        return result;
      })
      .finally(() => {
        current = undefined;
        schedule();
      });
    current = p;
    return p;
  }

  function schedule(): void {
    if (stopped || current !== undefined) return;
    if (timer !== undefined) clearTimeout(timer);
    const delay = again ? 0 : Math.max(0, Math.min(pollMs, last.nextAt - now()));
    again = false;
    timer = setTimeout(() => {
      timer = undefined;
      runPass().catch(onError);
    }, delay);
    // The worker must not keep a finished `pilotage run` alive; `stop()` is the real end.
    timer.unref();
  }

  schedule();

  return {
    kick(): void {
      if (stopped) return;
      if (current !== undefined) {
        again = true;
        return;
      }
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      runPass().catch(onError);
    },

    async drain(timeoutMs: number): Promise<{ pending: number }> {
      const deadline = now() + timeoutMs;
      for (;;) {
        // A pass already in flight may have started before the latest events were written.
        if (current !== undefined) await current.catch(() => undefined);
        if (stopped) return { pending: last.pending };
        const result = await runPass();
        if (result.pending === 0 || result.nextAt > deadline || now() >= deadline) {
          return { pending: result.pending };
        }
        await sleep(Math.max(0, result.nextAt - now()));
      }
    },

    async stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      for (const wake of sleepers) wake();
      if (current !== undefined) await current.catch(() => undefined);
      // Hand the sinks over at once instead of after the leases run out.
      await leases.releaseAll(onError);
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
