/** How an action is retried. `limit` is the number of retries after the first attempt. */
export interface RetryPolicy {
  readonly limit: number;
  /** delay before the first retry, in ms */
  readonly backoffMs: number;
  /** multiplier applied to the delay after each retry */
  readonly factor: number;
  /** upper bound of a single delay, in ms */
  readonly maxBackoffMs: number;
}

export const NO_RETRY: RetryPolicy = { limit: 0, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 };

/** Delay in ms before attempt `attempt` (1-based; attempt 2 is the first retry). */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  if (attempt <= 1) return 0;
  const delay = policy.backoffMs * policy.factor ** (attempt - 2);
  return Math.min(delay, policy.maxBackoffMs);
}

/** Should a task run that ended in `state` on attempt `attempt` be tried again? */
export function shouldRetry(policy: RetryPolicy, attempt: number, state: string): boolean {
  return (state === 'failed' || state === 'errored') && attempt <= policy.limit;
}
