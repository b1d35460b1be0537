import type { JsonValue } from '../domain/vocabulary.js';
import type { Cancellation } from './cancellation.js';

/**
 * POST the event data to a component's endpoint. The component said COMPONENT_START once
 * listening, but a container's port may take a moment: connection errors are retried
 * `attempts` times, `delayMs` apart. A non-2xx answer is final.
 */
export async function postEventData(
  url: string,
  data: JsonValue,
  stop: Cancellation,
  attempts = 10,
  delayMs = 200,
): Promise<void> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    if (stop.stopped) throw new Error('cancelled');
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(data),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new HttpStatusError(response.status);
      return;
    } catch (error) {
      if (error instanceof HttpStatusError) throw error;
      lastError = error;
      await stop.sleep(delayMs);
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`the endpoint answered HTTP ${status}`);
  }
}
