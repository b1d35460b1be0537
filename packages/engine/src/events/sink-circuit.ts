import { SinkError } from './sinks/sink.js';

/** Sends in a row that found a sink unavailable before its circuit opens. */
export const CIRCUIT_FAILURES = 5;

/** Options of a `SinkCircuit`. */
export interface SinkCircuitOptions {
  /** unavailable sends in a row that open the circuit (default CIRCUIT_FAILURES) */
  readonly failures?: number;
  /** the first wait while open, ms; doubled after each failed probe */
  readonly firstWaitMs: number;
  /** the longest wait while open, ms */
  readonly maxWaitMs: number;
  /** clock, epoch ms */
  readonly now: () => number;
}

/** What a send may do now: go, go as the one probe of an open circuit, or wait. */
export type CircuitTurn = 'send' | 'probe' | 'wait';

/**
 * A circuit breaker for one sink. While the sink answers, sends go (closed). After `failures`
 * sends in a row found it unavailable (no answer, a timeout, 5xx, 408 or 429), it opens: nothing
 * is sent for `firstWaitMs`, then one send goes as a probe. A probe that gets through closes it; one
 * that fails opens it again for twice as long, up to `maxWaitMs`. An answer that refuses one
 * event (another 4xx) shows the sink is there: it counts as getting through.
 */
export class SinkCircuit {
  readonly #options: SinkCircuitOptions;
  #failures = 0;
  /** while open: when the next probe may go (epoch ms); 0 while closed */
  #openUntil = 0;
  #waitMs = 0;
  #probing = false;
  /** resolves when the probe out settles */
  #probed: Promise<void> | undefined;
  #settleProbe: (() => void) | undefined;

  constructor(options: SinkCircuitOptions) {
    this.#options = options;
  }

  /** Whether it is open. */
  get open(): boolean {
    return this.#openUntil > 0;
  }

  /** When a send may be tried again after a `wait` (epoch ms). */
  get retryAt(): number {
    return this.#probing ? this.#options.now() + Math.min(this.#waitMs, 1000) : this.#openUntil;
  }

  /** Ask before a send; `probe` is given to one caller at a time, who must report its outcome. */
  take(): CircuitTurn {
    if (!this.open) return 'send';
    if (this.#probing || this.#options.now() < this.#openUntil) return 'wait';
    this.#probing = true;
    this.#probed = new Promise((resolve) => (this.#settleProbe = resolve));
    return 'probe';
  }

  /** While a probe is out: resolves once it settled (then `take()` again); else undefined. */
  probeSettled(): Promise<void> | undefined {
    return this.#probing ? this.#probed : undefined;
  }

  /**
   * Report the outcome of a send `take()` let go as `turn` (`failure` undefined: it got through).
   * Returns 'opened' or 'closed' when the circuit changed, else undefined.
   */
  settle(
    turn: Exclude<CircuitTurn, 'wait'>,
    failure: { readonly error: unknown } | undefined,
  ): 'opened' | 'closed' | undefined {
    const probe = turn === 'probe';
    if (probe) {
      this.#probing = false;
      this.#settleProbe?.();
      this.#settleProbe = undefined;
    }
    if (failure === undefined || !unavailable(failure.error)) {
      this.#failures = 0;
      if (!this.open) return undefined;
      this.#openUntil = 0;
      this.#waitMs = 0;
      return 'closed';
    }
    this.#failures += 1;
    if (probe) {
      this.#waitMs = Math.min(this.#waitMs * 2, this.#options.maxWaitMs);
    } else if (!this.open && this.#failures >= (this.#options.failures ?? CIRCUIT_FAILURES)) {
      this.#waitMs = Math.min(this.#options.firstWaitMs, this.#options.maxWaitMs);
    } else {
      // closed below the threshold, or a send that was already out when it opened
      return undefined;
    }
    this.#openUntil = this.#options.now() + this.#waitMs;
    return probe ? undefined : 'opened';
  }
}

/** Whether a failed send says the sink is unavailable, rather than refusing that one event. */
function unavailable(error: unknown): boolean {
  if (!(error instanceof SinkError) || error.status === undefined) return true;
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

/**
 * The line telling that `sink`'s circuit `state` (for a log or the terminal), with any
 * `user:password@` of a URL in the sink's name or the error hidden.
 */
export function circuitMessage(sink: string, state: 'opened' | 'closed', error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  const text =
    state === 'opened'
      ? `events sink ${sink} is unavailable (${why}): its events wait, and one is tried now and then`
      : `events sink ${sink} answers again: its events go on`;
  return text.replace(/\/\/[^/@\s]+@/g, '//***@');
}
