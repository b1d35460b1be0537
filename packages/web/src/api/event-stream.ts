import { ApiError, routePath, type RouteSpec, type StreamEvent } from '@pilotage/api';

/** What `openStream` reports. */
type Events = NonNullable<RouteSpec['events']>;

export interface StreamHandlers<E extends Events> {
  onEvent(event: StreamEvent<E>): void;
  /** the connection dropped (the browser reconnects by itself, resuming with Last-Event-ID) */
  onError?(error: ApiError): void;
  /** the connection is (again) open */
  onOpen?(): void;
}

/**
 * Follow a streaming route of the API (Server-Sent Events) with the browser's EventSource: the
 * session cookie authenticates it (EventSource cannot send a header, and the token is never put
 * in a URL). The browser reconnects a dropped stream by itself; a stream ends when the server
 * sends its `end` event (the caller then calls the returned close).
 */
export function openStream<R extends RouteSpec & { events: Events }>(
  spec: R,
  params: Readonly<Record<string, string>>,
  handlers: StreamHandlers<R['events']>,
  query: Readonly<Record<string, string | number | undefined>> = {},
): () => void {
  const source = new EventSource(routePath(spec, params, query));
  for (const name of Object.keys(spec.events)) {
    source.addEventListener(name, (message) => {
      const data = JSON.parse((message as MessageEvent<string>).data) as unknown;
      handlers.onEvent({ event: name, data } as StreamEvent<R['events']>);
    });
  }
  source.onopen = () => handlers.onOpen?.();
  source.onerror = () => {
    handlers.onError?.(new ApiError(0, 'UNAVAILABLE', 'the live connection dropped; reconnecting…'));
  };
  return () => source.close();
}
