import type { OutboxRecord } from '../../store/types.js';

/**
 * A destination for outbox events. The delivery worker calls `send` for one event at a time per
 * sink, in run order (`runSeq`) within a run, and retries after a rejection, so `send` must be safe to
 * repeat (receivers deduplicate by `context.id`, which a retry keeps).
 */
export interface Sink {
  /** stable across restarts: delivery state in the store is keyed by it */
  readonly name: string;
  /** Should events of `type` go to this sink? Rejected types get no delivery row at all. */
  accepts(type: string): boolean;
  /** Deliver one event; resolves once the destination has it, rejects (with a reason) otherwise. */
  send(event: OutboxRecord): Promise<void>;
}

/** A failed delivery attempt. `status` is the HTTP status when the destination answered. */
export class SinkError extends Error {
  readonly sink: string;
  readonly status: number | undefined;
  constructor(sink: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SinkError';
    this.sink = sink;
    this.status = options.status;
  }
}
