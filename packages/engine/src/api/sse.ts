import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';

/** How often an idle stream sends a `: ping` comment, ms (keeps proxies from closing it). */
export const SSE_HEARTBEAT_MS = 15_000;

/**
 * Events sent within this long of each other go out in one write, ms: a step of a run is three
 * or four events (its task's moves, its log line), and each write is a system call and a wake-up
 * of the client (~45 µs each on the engine's thread: bench/README.md, "Session 6"). A live view
 * sees an event at most this much later.
 */
export const SSE_COALESCE_MS = 10;

/** Pending events past this many characters are written at once (a snapshot, a log backlog). */
const COALESCE_MAX_CHARS = 64 * 1024;

/** A client that lets this much unsent output pile up is dropped (it can resume), bytes. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Event name → schema of its `data` (the contract's `RunStreamEvents`, `LogStreamEvents`). */
type EventSchemas = Readonly<Record<string, TSchema>>;

/** One open `text/event-stream` answer, whose events are typed by `E`. */
export interface SseStream<E extends EventSchemas = EventSchemas> {
  /** false once the client went away or `end()` was called */
  readonly open: boolean;
  /** Send one event: `data` as one line of JSON; `id` sets the client's Last-Event-ID. */
  send<K extends keyof E & string>(event: K, data: Static<E[K]>, id?: string | number): void;
  /** End the answer (safe to repeat). */
  end(): void;
  /** Call `fn` once when the stream closes, for any reason (at once if already closed). */
  onClose(fn: () => void): void;
  /** Call `fn` at every heartbeat (after the ping is sent): a place for slow safety checks. */
  onHeartbeat(fn: () => void): void;
}

/**
 * Take over `reply` (Fastify no longer answers it) and start a Server-Sent Events answer: status
 * 200, `text/event-stream`, no caching or proxy buffering, a `retry` hint, and a `: ping` comment
 * every `heartbeatMs`. Events sent close together go out in one write (SSE_COALESCE_MS);
 * `end()` writes what is pending first. Closing, by the client or by `end()`, stops the heartbeat and runs the
 * `onClose` callbacks, where callers unsubscribe. Errors must be thrown before calling this:
 * afterwards only events can be sent.
 */
export function openSse<E extends EventSchemas = EventSchemas>(
  reply: FastifyReply,
  heartbeatMs = SSE_HEARTBEAT_MS,
): SseStream<E> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write('retry: 2000\n\n');
  let open = true;
  const closers: (() => void)[] = [];
  const beats: (() => void)[] = [];
  /** events not yet written, and the timer that writes them */
  let pending: string[] = [];
  let pendingChars = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  const close = (): void => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    clearTimeout(flushTimer);
    pending = [];
    pendingChars = 0;
    for (const fn of closers.splice(0)) fn();
  };
  const flush = (): void => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (!open || pending.length === 0) return;
    const text = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    pendingChars = 0;
    raw.write(text);
    if (raw.writableLength > MAX_BUFFERED_BYTES) {
      close();
      raw.destroy();
    }
  };
  const heartbeat = setInterval(() => {
    if (!open) return;
    flush();
    if (!open) return;
    raw.write(': ping\n\n');
    for (const fn of beats) fn();
  }, heartbeatMs);
  heartbeat.unref();
  raw.on('close', close);
  raw.on('error', close);
  return {
    get open() {
      return open;
    },
    send(event, data, id) {
      if (!open) return;
      const head = id === undefined ? '' : `id: ${String(id)}\n`;
      const text = `${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      pending.push(text);
      pendingChars += text.length;
      if (pendingChars > COALESCE_MAX_CHARS) flush();
      else flushTimer ??= setTimeout(flush, SSE_COALESCE_MS);
    },
    end() {
      if (!open) return;
      flush();
      if (!open) return;
      close();
      raw.end();
    },
    onClose(fn) {
      if (open) closers.push(fn);
      else fn();
    },
    onHeartbeat(fn) {
      beats.push(fn);
    },
  };
}
