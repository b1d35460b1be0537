import type { LogLine } from '../executor.js';
import { LineSplitter, MAX_LINE_BYTES } from '../shared/line-splitter.js';
import type { KubeApi } from './kube-api.js';
import { CONTAINER_NAME } from './pod.js';
import { streamOf } from './stderr-tag.js';

/** Pause before asking again when the log is not there yet (204, 400 while waiting), ms. */
const RETRY_MS = 250;
/** After the container ended, how long the followed stream may take to end by itself, ms. */
const DRAIN_MS = 5000;

/** Room for the timestamp before each line (`2026-12-04T14:38:31.815887158Z `). */
const STAMP_BYTES = 40;

/**
 * An RFC 3339 timestamp as the kubelet writes it (`2026-12-04T14:38:31.815887158Z`, trailing
 * zeros of the fraction trimmed) → nanoseconds since the epoch, for exact ordering.
 */
export function stampNanos(stamp: string): bigint | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(stamp);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/**
 * Follows the log of a pod's component container (`GET pods/{name}/log?follow&timestamps`) and
 * delivers it line by line, the stderr tag read back (stderr-tag.ts):
 * - before the pod is bound the API answers 204, while the container waits 400: asked again;
 * - a stream that ends while the container runs (a dropped connection, an API server restart)
 *   resumes with `sinceTime` at the last line's timestamp, skipping the lines of that instant
 *   already delivered, so nothing is repeated or lost;
 * - `finish()` (the container ended) lets the stream end by itself, or after DRAIN_MS reads the
 *   rest without following; it resolves once every line was delivered.
 * `sinceMs` (attach after a restart) starts at that time instead of the beginning.
 */
export class PodLogFollower {
  private started = false;
  private ending = false;
  /** the last delivered line's timestamp, as written and in nanoseconds */
  private lastStamp: string | undefined;
  private lastNanos: bigint | undefined;
  /** lines delivered with exactly `lastNanos` (to skip them when resuming there) */
  private atLastStamp = 0;
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;
  /** ends the pause between two log requests */
  private wake: (() => void) | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
    private readonly pod: string,
    private readonly onLog: (line: LogLine) => void,
    private readonly warn: (message: string) => void,
    private readonly sinceMs?: number,
  ) {}

  get wasStarted(): boolean {
    return this.started;
  }

  /** Start following (the container runs or has ended). Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.done = this.follow();
  }

  /** The container ended: resolves once its whole log was delivered. */
  async finish(): Promise<void> {
    this.start();
    this.ending = true;
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.done!.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DRAIN_MS))),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.abort.abort();
      await this.done;
      await this.read(false, new AbortController().signal).catch((error: unknown) =>
        this.warn(`kubernetes executor: the end of the log of ${this.pod}: ${(error as Error).message}`),
      );
    }
  }

  /** Stop reading at once (the executor closes). */
  stop(): void {
    this.abort.abort();
  }

  private async follow(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let outcome: 'ended' | 'not yet' | 'gone';
      try {
        outcome = await this.read(true, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.warn(`kubernetes executor: following the log of ${this.pod}: ${(error as Error).message}; resuming`);
        outcome = 'not yet';
      }
      // a followed log ends when the container does; before that, a drop is resumed
      if ((outcome === 'ended' || outcome === 'gone') && this.ending) return;
      // the pause ends early when the container ends: the rest is then read at once
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /**
   * One log request from the current position: `ended` when its stream ended, `not yet` when
   * the log cannot be read yet, `gone` when the pod is.
   */
  private async read(follow: boolean, signal: AbortSignal): Promise<'ended' | 'not yet' | 'gone'> {
    const sinceTime = this.lastStamp ?? (this.sinceMs === undefined ? undefined : new Date(this.sinceMs).toISOString());
    const response = await this.api.stream(
      follow ? 'follow log' : 'read log',
      `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(this.pod)}/log`,
      {
        container: CONTAINER_NAME,
        timestamps: 'true',
        ...(follow ? { follow: 'true' } : {}),
        ...(sinceTime === undefined ? {} : { sinceTime }),
      },
      signal,
    );
    if (response.status !== 200) {
      response.body.resume();
      // 204: not bound to a node yet; 400: waiting to start; 404: gone
      if (response.status === 404) return 'gone';
      if (response.status === 204 || response.status === 400) return 'not yet';
      throw new Error(`HTTP ${response.status}`);
    }
    const skipNanos = this.lastNanos;
    let skip = this.atLastStamp;
    const deliver = (raw: string): void => {
      const space = raw.indexOf(' ');
      const stamp = space < 0 ? raw : raw.slice(0, space);
      const nanos = stampNanos(stamp);
      if (nanos === undefined) {
        // the rest of a line longer than the splitter's limit: it has no timestamp of its own
        const ts = this.lastNanos === undefined ? Date.now() : Number(this.lastNanos / 1_000_000n);
        this.onLog({ ...streamOf(raw), ts });
        return;
      }
      const text = space < 0 ? '' : raw.slice(space + 1);
      if (skipNanos !== undefined) {
        if (nanos < skipNanos) return;
        if (nanos === skipNanos && skip > 0) {
          skip -= 1;
          return;
        }
      }
      if (nanos === this.lastNanos) this.atLastStamp += 1;
      else {
        this.lastStamp = stamp;
        this.lastNanos = nanos;
        this.atLastStamp = 1;
      }
      this.onLog({ ...streamOf(text), ts: Number(nanos / 1_000_000n) });
    };
    const splitter = new LineSplitter(MAX_LINE_BYTES + STAMP_BYTES);
    try {
      for await (const chunk of response.body) for (const raw of splitter.push(chunk as Buffer)) deliver(raw);
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      response.body.destroy();
    }
    if (!signal.aborted) for (const raw of splitter.end()) deliver(raw);
    return 'ended';
  }
}
