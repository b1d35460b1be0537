/**
 * Whether a component start may run on the main thread ("alone": nothing else of ours running or
 * starting). Alone, `posix_spawn` blocks the main thread until the child has called `exec`: ~0.2 ms
 * on a quiet machine, less than the thread pool's two hand-offs. On a busy machine (other engines,
 * replicas or builds sharing the cores) the child waits for a CPU before it can `exec`, and the
 * engine's thread waits with it: 1–2 ms a start measured with three replicas on two cores
 * (bench/README.md, "Session 17"). So the last few lone starts are timed: while their median is
 * over `slowMs`, starts go to the pool, and one start alone every `retryMs` tells when the machine
 * is quiet again.
 */
export class LoneStartPolicy {
  readonly #slowMs: number;
  readonly #retryMs: number;
  readonly #window: number;
  /** the durations of the last `window` lone starts, ms, oldest first */
  readonly #recent: number[] = [];
  #slow = false;
  #triedAt = -Infinity;

  constructor(options: { readonly slowMs?: number; readonly retryMs?: number; readonly window?: number } = {}) {
    this.#slowMs = options.slowMs ?? 0.5;
    this.#retryMs = options.retryMs ?? 250;
    this.#window = options.window ?? 7;
  }

  /** Whether a start that would be alone at time `now` (ms) should run on the main thread. */
  alone(now: number): boolean {
    if (!this.#slow) return true;
    if (now - this.#triedAt < this.#retryMs) return false;
    this.#triedAt = now;
    return true;
  }

  /** A start made alone blocked the main thread `ms` milliseconds. */
  record(ms: number): void {
    this.#recent.push(ms);
    if (this.#recent.length > this.#window) this.#recent.shift();
    const sorted = [...this.#recent].sort((a, b) => a - b);
    this.#slow = sorted[sorted.length >> 1]! > this.#slowMs;
  }
}
