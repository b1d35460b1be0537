/** Exponential backoff between delivery attempts of one event to one sink. */
export interface DeliveryBackoff {
  /** wait after the first failed attempt, ms (default 500) */
  readonly initialMs: number;
  /** multiplier per further failure (default 2) */
  readonly factor: number;
  /** cap, ms (default 60000) */
  readonly maxMs: number;
}

/** Defaults of the delivery worker. */
export const DELIVERY_DEFAULTS = {
  /** how long a delivery is retried after its first failed attempt before it is a dead letter, ms */
  retryWindowMs: 86_400_000,
  /** attempts before a dead letter, whatever the window (default: no limit) */
  maxAttempts: Infinity,
  backoff: { initialMs: 500, factor: 2, maxMs: 60_000 } satisfies DeliveryBackoff,
  pollMs: 250,
  /** deliveries read per sink per pass */
  batchSize: 500,
  /** runs delivered at the same time per sink (each run's events stay in order) */
  concurrency: 4,
} as const;

/** Wait before the next attempt after `attempts` failed ones (1 → `initialMs`), capped at `maxMs`. */
export function backoffDelayMs(backoff: DeliveryBackoff, attempts: number): number {
  const delay = backoff.initialMs * Math.pow(backoff.factor, Math.max(0, attempts - 1));
  return Math.min(backoff.maxMs, Math.round(delay));
}

/** The delivery worker's settings from the configuration (`PILOTAGE_EVENTS_*`). */
export function deliverySettings(config: {
  readonly eventsRetryWindowMs: number;
  readonly eventsMaxBackoffMs: number;
}): { readonly retryWindowMs: number; readonly backoff: Partial<DeliveryBackoff> } {
  return { retryWindowMs: config.eventsRetryWindowMs, backoff: { maxMs: config.eventsMaxBackoffMs } };
}
