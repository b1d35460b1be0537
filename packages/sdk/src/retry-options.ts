/** How contract calls are retried. The engine's answers are idempotent, so every call may repeat. */
export interface RetryOptions {
  /** retries after the first try, on network errors and 5xx answers (default 3) */
  readonly retries?: number;
  /** delay before the first retry in ms, doubled for each next one (default 100) */
  readonly retryDelayMs?: number;
  /** how long one HTTP request may take in ms before it counts as a network error (default 30000) */
  readonly requestTimeoutMs?: number;
}

/** The defaults of `RetryOptions`. */
export const RETRY_DEFAULTS = { retries: 3, retryDelayMs: 100, requestTimeoutMs: 30_000 } as const;
