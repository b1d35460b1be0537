import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonValue } from '../domain/vocabulary.js';

/** How `postEventData` retries; the defaults suit a container whose port opens a moment late. */
export interface EndpointPushOptions {
  /** connection attempts before giving up (default 10) */
  readonly attempts?: number;
  /** pause between attempts, ms (default 200) */
  readonly delayMs?: number;
  /** how long one request may take, ms (default 10000) */
  readonly requestTimeoutMs?: number;
}

/**
 * POST the event data to a component's endpoint (the engine's `EventDataPush` port). The
 * component said COMPONENT_START once listening, but a container's port may take a moment:
 * connection errors are retried `attempts` times, `delayMs` apart. A non-2xx answer is final.
 * Rejects when `signal` aborts (the task was cancelled).
 */
export async function postEventData(
  url: string,
  data: JsonValue,
  signal: AbortSignal,
  options: EndpointPushOptions = {},
): Promise<void> {
  const attempts = options.attempts ?? 10;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    signal.throwIfAborted();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(data),
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeoutMs ?? 10_000)]),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new HttpStatusError(response.status);
      return;
    } catch (error) {
      if (error instanceof HttpStatusError) throw error;
      signal.throwIfAborted();
      lastError = error;
      await sleep(options.delayMs ?? 200, undefined, { signal });
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`the endpoint answered HTTP ${status}`);
  }
}
