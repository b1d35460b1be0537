import { createParser, type EventSourceMessage } from 'eventsource-parser';

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

function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
