/**
 * The client-side budget of API requests (client-go's QPS and burst): a token bucket holding up
 * to `burst` tokens, refilled at `qps` per second; each request takes one, waiting when none is
 * left, in the order asked. It also counts requests by kind, for the benchmark and diagnostics.
 */
export class RequestBudget {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new RangeError('the request budget needs qps > 0 and burst ≥ 1');
    this.tokens = burst;
    this.last = clock();
  }

  /** Resolves when a request of `kind` (`create pod`, `watch`…) may be sent. */
  take(kind: string): Promise<void> {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const turn = this.queue.then(() => this.next());
    this.queue = turn;
    return turn;
  }

  /** Requests taken so far, by kind. */
  taken(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }

  private async next(): Promise<void> {
    for (;;) {
      const now = this.clock();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000));
    }
  }
}
