import type { OutboxRecord } from '../../store/types.js';
import { ConfigError } from '../../domain/errors.js';
import { toHttpMessage, type CloudEventsMode } from '../cloud-event.js';
import { typeFilter } from '../type-pattern.js';
import { SinkError, type Sink } from './sink.js';

/** Options of an HTTP CloudEvents sink. */
export interface HttpSinkOptions {
  /** where events are POSTed, `http(s)://` */
  readonly url: string;
  /** delivery key; default the URL */
  readonly name?: string;
  /** default `binary` (what the CDEvents spec's examples use) */
  readonly mode?: CloudEventsMode;
  /** sent with every request (auth tokens); they never replace the CloudEvents headers */
  readonly headers?: Readonly<Record<string, string>>;
  /** type patterns (`type-pattern.ts`) this sink accepts; default all */
  readonly types?: readonly string[];
  /** per request, ms; default 10000 */
  readonly timeoutMs?: number;
}

/** Longest part of an error response body kept in the failure message. */
const ERROR_BODY_CHARS = 200;

/**
 * A sink that POSTs each event as a CloudEvent (binary or structured mode, built by the
 * `cloudevents` package). Any 2xx answer is success; any other status, a network error or a
 * timeout rejects with a `SinkError` saying which.
 */
export function httpSink(options: HttpSinkOptions): Sink {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new ConfigError(`events sink URL "${options.url}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`events sink URL "${options.url}" must be http:// or https://`);
  }
  const name = options.name ?? options.url;
  const mode = options.mode ?? 'binary';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const extra = { ...(options.headers ?? {}) };
  return {
    name,
    accepts: typeFilter(options.types),
    async send(event: OutboxRecord): Promise<void> {
      const message = toHttpMessage(event.payload, mode);
      const headers = new Headers(extra);
      for (const [key, value] of Object.entries(message.headers)) headers.set(key, value);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers,
          body: message.body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        const reason =
          cause instanceof Error && cause.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : describeNetworkError(cause);
        throw new SinkError(name, `POST ${url.href} failed: ${reason}`, { cause });
      }
      // Read the body either way so the connection can be reused.
      const text = await response.text().catch(() => '');
      if (!response.ok) {
        const detail = text.trim().slice(0, ERROR_BODY_CHARS);
        throw new SinkError(
          name,
          `POST ${url.href} answered ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`,
          { status: response.status },
        );
      }
    },
  };
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return error.message;
}
