import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { PilotageError } from '../domain/errors.js';
import type { ApiClient } from './api-client.js';

/** How many times `followEvents` reopens a dropped stream before giving up. */
const RECONNECTS = 10;

/** How long `followEvents` waits before reopening a dropped stream, ms. */
const RECONNECT_DELAY_MS = 1000;

/** One Server-Sent Event, its `data` parsed as JSON. */
export interface SseEvent {
  /** the `event:` field (`message` when the server sent none) */
  readonly event: string;
  /** the `id:` field, if any */
  readonly id: string | undefined;
  readonly data: unknown;
}

/**
 * The events of a `text/event-stream` body, in order, until the server closes it. Comments
 * (`: ping`) are skipped; an event whose data is not JSON has its text as `data`. Stop early
 * with `break` (the caller then destroys the stream).
 */
export async function* sseEvents(stream: NodeJS.ReadableStream): AsyncGenerator<SseEvent> {
  const ready: SseEvent[] = [];
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      ready.push({ event: message.event ?? 'message', id: message.id, data: parseData(message.data) });
    },
  });
  stream.setEncoding?.('utf8');
  for await (const chunk of stream) {
    parser.feed(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    while (ready.length > 0) yield ready.shift()!;
  }
}

/** What `followEvents` needs besides the client and the path. */
export interface FollowOptions {
  /** what the stream is, for the message when it is lost for good (`the event stream of run X`) */
  readonly what: string;
  /** checked each time the server closes the stream: true when nothing more is expected */
  readonly done: () => boolean;
  /** the headers of each (re)opening, such as `last-event-id` (default none) */
  readonly headers?: () => Record<string, string>;
}

/**
 * The events of the SSE stream at `path` on the server, until `done()` says the end was seen. A
 * stream the server closes before that, or that cannot be opened because the server is
 * UNAVAILABLE, is reopened RECONNECT_DELAY_MS later, up to RECONNECTS times; then a
 * PilotageError UNAVAILABLE naming `what`. Other errors pass through. The stream is destroyed
 * when the caller stops early (`break`, `return`, a throw).
 */
export async function* followEvents(client: ApiClient, path: string, options: FollowOptions): AsyncGenerator<SseEvent> {
  for (let attempt = 0; ; attempt += 1) {
    if (attempt > RECONNECTS) {
      throw new PilotageError('UNAVAILABLE', `lost ${options.what} ${RECONNECTS} times; giving up`);
    }
    if (attempt > 0) await sleep(RECONNECT_DELAY_MS);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await client.stream(path, options.headers?.() ?? {});
    } catch (error) {
      if (error instanceof PilotageError && error.code === 'UNAVAILABLE') continue;
      throw error;
    }
    try {
      yield* sseEvents(stream);
    } finally {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    }
    if (options.done()) return;
  }
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
