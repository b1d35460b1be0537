import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Client } from 'pg';
import type { Change, ChangeFeed, ChangeKind } from '../types.js';

/** The one channel every replica listens on. */
export const CHANGE_CHANNEL = 'pilotage_changes';
/** A notification's payload must stay under PostgreSQL's 8000 bytes. */
const MAX_PAYLOAD_BYTES = 7000;
/** How long published changes are gathered before one notification carries them, ms. */
const FLUSH_MS = 10;
/** Reconnect delays of the listening connection, ms. */
const RECONNECT_MS = [250, 1000, 2000, 5000];

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
}

/**
 * `ChangeFeed` over PostgreSQL `LISTEN`/`NOTIFY` on CHANGE_CHANNEL. Published changes are gathered
 * for FLUSH_MS, deduplicated, and sent as one `pg_notify` per ~7 KB of JSON array (a busy
 * replica sends one notification per 10 ms rather than one per event-loop turn: each is a round
 * trip here and a wake-up of every replica); a failed send is dropped (subscribers poll too). One connection outside the pool
 * listens, opened with the first subscriber; when it breaks it is opened again (250 ms to 5 s
 * apart) and subscribers get a `resync`, since notifications sent meanwhile are lost.
 */
export function createPgChangeFeed(options: PgChangeFeedOptions): ChangeFeed & { close(): Promise<void> } {
  const listeners = new Set<(change: Change) => void>();
  let pending: Wire[] = [];
  let flushing = false;
  let client: Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const deliver = (change: Change): void => {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch {
        // a listener's failure is its own
      }
    }
  };

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    const unique = [...new Map(batch.map((w) => [JSON.stringify(w), w])).values()];
    let chunk: Wire[] = [];
    let size = 2;
    const send = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const payload = JSON.stringify(chunk);
      chunk = [];
      size = 2;
      await sql`select pg_notify(${CHANGE_CHANNEL}, ${payload})`.execute(options.db).catch(() => undefined);
    };
    for (const wire of unique) {
      const length = Buffer.byteLength(JSON.stringify(wire)) + 1;
      if (size + length > MAX_PAYLOAD_BYTES) await send();
      chunk.push(wire);
      size += length;
    }
    await send();
  };

  const scheduleFlush = (): void => {
    if (flushing) return;
    flushing = true;
    setTimeout(() => {
      void flush().finally(() => {
        flushing = false;
        if (pending.length > 0) scheduleFlush();
      });
    }, FLUSH_MS);
  };

  const listen = async (): Promise<void> => {
    const next = await options.connect();
    next.on('notification', (message) => {
      if (message.channel !== CHANGE_CHANNEL || message.payload === undefined) return;
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
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    if (failures > 0) deliver({ kind: 'resync' });
    failures = 0;
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
      scheduleFlush();
    },
    subscribe(listener) {
      listeners.add(listener);
      start();
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      clearTimeout(retryTimer);
      await connecting;
      if (pending.length > 0) await flush();
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
