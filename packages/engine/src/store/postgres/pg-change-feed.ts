import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Client } from 'pg';
import { LIVE_CHANGES, type Change, type ChangeFeed, type ChangeKind } from '../types.js';

/** The channel of control changes, which every replica listens on. */
export const CHANGE_CHANNEL = 'pilotage_changes';
/** The channel of live-view changes (LIVE_CHANGES), listened on only while a live subscriber exists. */
export const LIVE_CHANNEL = 'pilotage_live';
/** A notification's payload must stay under PostgreSQL's 8000 bytes. */
const MAX_PAYLOAD_BYTES = 7000;
/** How long published control changes are gathered before one notification carries them, ms. */
const FLUSH_MS = 10;
/**
 * The same for live-view changes alone, ms: they feed other replicas' live streams (people
 * watching), where 100 ms is not seen, and a busy replica sent one statement per 10 ms for them,
 * each a round trip and a wake-up of PostgreSQL (bench:replicas, session 12). Pending live
 * changes go out with the next control change's notification, whichever comes first.
 */
const LIVE_FLUSH_MS = 100;
/** Reconnect delays of the listening connection, and retry delays of a failed send, ms. */
const RECONNECT_MS = [250, 1000, 2000, 5000];
/**
 * Changes kept for a send that keeps failing (PostgreSQL unreachable from the pool) before they
 * are given up for one `resync`: every replica then reads what it follows again.
 */
const MAX_PENDING = 10_000;

/** A change as it travels: short keys. */
interface Wire {
  readonly k: ChangeKind;
  readonly r?: string;
  readonly t?: string;
  readonly o?: string;
}

/** Options of `createPgChangeFeed`. */
export interface PgChangeFeedOptions {
  /** publishes through the store's pool */
  readonly db: Kysely<unknown>;
  /** opens the listening connection (one, outside the pool) */
  readonly connect: () => Promise<Client>;
  /** how long live-view changes alone are gathered, ms (default LIVE_FLUSH_MS) */
  readonly liveFlushMs?: number;
  /** retry delays of a failed send, ms (default RECONNECT_MS; the last repeats) */
  readonly retryMs?: readonly number[];
  /** most changes kept while sends fail (default MAX_PENDING) */
  readonly maxPending?: number;
}

/**
 * `ChangeFeed` over PostgreSQL `LISTEN`/`NOTIFY`: control changes on CHANGE_CHANNEL, live-view
 * changes on LIVE_CHANNEL. Published changes are gathered for FLUSH_MS (LIVE_FLUSH_MS while only
 * live-view changes are pending), deduplicated, and sent as one `pg_notify` per channel and ~7 KB
 * of JSON array, all in one statement (a busy replica sends one per 10 ms rather than one per
 * event-loop turn: each is a round trip here and a wake-up of every listening replica). A failed
 * send is tried again (250 ms to 5 s apart) with what was published meanwhile after it, in
 * order; past MAX_PENDING changes they are given up for one `resync` change, which every
 * subscriber of every replica gets (and reads again). One connection outside the pool listens,
 * opened with the first subscriber; when it breaks it is opened again (250 ms to 5 s apart) and
 * subscribers get a `resync`, since notifications sent meanwhile are lost. It listens
 * on LIVE_CHANNEL only while a subscriber without `controlOnly` exists (session 4 measured
 * ~0.6 ms of CPU per run on each idle replica that heard every task of the others), and those
 * subscribers get a `resync` once the `LISTEN` is in, for what was sent before it.
 */
export function createPgChangeFeed(options: PgChangeFeedOptions): ChangeFeed & { close(): Promise<void> } {
  /** each listener, and whether it is a live one (hears LIVE_CHANGES) */
  const listeners = new Map<(change: Change) => void, boolean>();
  /** live subscribers */
  let live = 0;
  /** whether the current connection listens on LIVE_CHANNEL (its LISTEN/UNLISTEN sent) */
  let hearingLive = false;
  let pending: Wire[] = [];
  /** whether `pending` holds a control change (it then goes out after FLUSH_MS) */
  let pendingControl = false;
  /** the send under way, if any */
  let flushing: Promise<void> | undefined;
  /** failed sends in a row */
  let sendFailures = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  /** when the scheduled flush runs (Date.now() ms) */
  let flushAt = Infinity;
  let client: Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const deliver = (change: Change, onlyLive = false): void => {
    const isLive = LIVE_CHANGES.has(change.kind);
    for (const [listener, hearsLive] of [...listeners]) {
      if ((isLive || onlyLive) && !hearsLive) continue;
      try {
        listener(change);
      } catch {
        // a listener's failure is its own
      }
    }
  };

  /** Send what is pending; false when the send failed (the changes are pending again, first). */
  const flush = async (): Promise<boolean> => {
    const batch = pending;
    pending = [];
    pendingControl = false;
    const unique = [...new Map(batch.map((w) => [JSON.stringify(w), w])).values()];
    const control = unique.filter((w) => !LIVE_CHANGES.has(w.k));
    const liveOnes = unique.filter((w) => LIVE_CHANGES.has(w.k));
    // the channel whose first change came first goes first (order holds within a channel)
    const liveFirst = unique[0] !== undefined && LIVE_CHANGES.has(unique[0].k);
    const notes = liveFirst
      ? [...payloads(LIVE_CHANNEL, liveOnes), ...payloads(CHANGE_CHANNEL, control)]
      : [...payloads(CHANGE_CHANNEL, control), ...payloads(LIVE_CHANNEL, liveOnes)];
    if (notes.length === 0) return true;
    // one statement (one round trip) for both channels; NOTIFY keeps the order of the calls
    const calls = notes.map(([channel, payload]) => sql`pg_notify(${channel}, ${payload})`);
    try {
      await sql`select ${sql.join(calls)}`.execute(options.db);
      return true;
    } catch {
      keepForRetry(unique);
      return false;
    }
  };

  /** Put a batch that failed back before what was published since; too many: one `resync`. */
  const keepForRetry = (batch: readonly Wire[]): void => {
    pending = [...batch, ...pending];
    if (pending.length > (options.maxPending ?? MAX_PENDING)) pending = [{ k: 'resync' }];
    pendingControl = pending.some((w) => !LIVE_CHANGES.has(w.k));
  };

  /** The notifications carrying `wires` on `channel`: [channel, JSON array of at most ~MAX_PAYLOAD_BYTES]. */
  const payloads = (channel: string, wires: readonly Wire[]): [string, string][] => {
    const out: [string, string][] = [];
    let chunk: Wire[] = [];
    let size = 2;
    for (const wire of wires) {
      const length = Buffer.byteLength(JSON.stringify(wire)) + 1;
      if (size + length > MAX_PAYLOAD_BYTES && chunk.length > 0) {
        out.push([channel, JSON.stringify(chunk)]);
        chunk = [];
        size = 2;
      }
      chunk.push(wire);
      size += length;
    }
    if (chunk.length > 0) out.push([channel, JSON.stringify(chunk)]);
    return out;
  };

  /**
   * Listen on LIVE_CHANNEL while a live subscriber exists, and stop when none is left. Queries on
   * one `pg` client run in order, so a LISTEN and an UNLISTEN sent in turn take effect in turn.
   */
  const hearLive = (): void => {
    const current = client;
    const want = live > 0;
    if (current === undefined || want === hearingLive) return;
    hearingLive = want;
    current.query(`${want ? 'listen' : 'unlisten'} ${LIVE_CHANNEL}`).then(
      () => {
        if (want && client === current) deliver({ kind: 'resync' }, true);
      },
      () => reconnect(current),
    );
  };

  /**
   * Flush after FLUSH_MS when a control change is pending, else after LIVE_FLUSH_MS, or after a
   * retry delay when the last send failed; one at a time.
   */
  const scheduleFlush = (): void => {
    if (flushing !== undefined || pending.length === 0 || closed) return;
    const retries = options.retryMs ?? RECONNECT_MS;
    const wait =
      sendFailures > 0
        ? (retries[Math.min(sendFailures, retries.length) - 1] ?? 5000)
        : pendingControl
          ? FLUSH_MS
          : (options.liveFlushMs ?? LIVE_FLUSH_MS);
    if (flushTimer !== undefined && flushAt <= Date.now() + wait) return;
    clearTimeout(flushTimer);
    flushAt = Date.now() + wait;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      flushAt = Infinity;
      flushing = flush().then((sent) => {
        sendFailures = sent ? 0 : sendFailures + 1;
        flushing = undefined;
        scheduleFlush();
      });
    }, wait);
  };

  const listen = async (): Promise<void> => {
    const next = await options.connect();
    next.on('notification', (message) => {
      if (message.channel !== CHANGE_CHANNEL && message.channel !== LIVE_CHANNEL) return;
      if (message.payload === undefined) return;
      let wires: Wire[];
      try {
        wires = JSON.parse(message.payload) as Wire[];
      } catch {
        return;
      }
      if (!Array.isArray(wires)) return;
      for (const w of wires) {
        deliver({
          kind: w.k,
          ...(w.r === undefined ? {} : { runId: w.r }),
          ...(w.t === undefined ? {} : { taskRunId: w.t }),
          ...(w.o === undefined ? {} : { origin: w.o }),
        });
      }
    });
    next.on('error', () => reconnect(next));
    next.on('end', () => reconnect(next));
    await next.query(`listen ${CHANGE_CHANNEL}`);
    const withLive = live > 0;
    if (withLive) await next.query(`listen ${LIVE_CHANNEL}`);
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    hearingLive = withLive;
    if (failures > 0) deliver({ kind: 'resync' });
    failures = 0;
    hearLive();
  };

  const reconnect = (broken: Client): void => {
    if (client !== broken || closed) return;
    client = undefined;
    broken.end().catch(() => undefined);
    deliver({ kind: 'resync' });
    schedule();
  };

  const schedule = (): void => {
    if (closed || connecting !== undefined || retryTimer !== undefined) return;
    const wait = RECONNECT_MS[Math.min(failures, RECONNECT_MS.length - 1)] ?? 5000;
    failures += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      start();
    }, wait);
    retryTimer.unref();
  };

  const start = (): void => {
    if (closed || client !== undefined || connecting !== undefined) return;
    connecting = listen()
      .catch(() => {
        failures += 1;
      })
      .finally(() => {
        connecting = undefined;
        if (client === undefined && listeners.size > 0) schedule();
      });
  };

  return {
    shared: true,
    publish(change) {
      if (closed) return;
      pending.push({
        k: change.kind,
        ...(change.runId === undefined ? {} : { r: change.runId }),
        ...(change.taskRunId === undefined ? {} : { t: change.taskRunId }),
        ...(change.origin === undefined ? {} : { o: change.origin }),
      });
      if (!LIVE_CHANGES.has(change.kind)) pendingControl = true;
      scheduleFlush();
    },
    subscribe(listener, subscribeOptions) {
      // a function subscribed twice is one listener (as in a Set), the later options win
      const hearsLive = subscribeOptions?.controlOnly !== true;
      const before = listeners.get(listener);
      if (before !== undefined && before) live -= 1;
      listeners.set(listener, hearsLive);
      if (hearsLive) live += 1;
      start();
      hearLive();
      return () => {
        if (listeners.get(listener) === true) live -= 1;
        listeners.delete(listener);
        hearLive();
      };
    },
    async close() {
      closed = true;
      listeners.clear();
      live = 0;
      clearTimeout(retryTimer);
      clearTimeout(flushTimer);
      await connecting;
      await flushing;
      if (pending.length > 0) await flush();
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
