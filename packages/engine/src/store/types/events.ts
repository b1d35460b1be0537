import type { JsonObject } from '../../domain/vocabulary.js';

/**
 * The outgoing events area: the transactional outbox, each event's delivery to each sink, and
 * the leases that let one replica at a time deliver to a sink.
 */

/** An event row written with a state change (the transactional outbox). */
export interface NewOutboxEvent {
  readonly id: string;
  readonly runId: string | null;
  /** CloudEvents/CDEvents type */
  readonly type: string;
  /** the whole CDEvent, JSON */
  readonly payload: JsonObject;
  readonly createdAt: number;
}

/** A stored outbox event. */
export interface OutboxRecord extends NewOutboxEvent {
  /** global insertion order */
  readonly seq: number;
  /**
   * The event's place among its run's events: 1, 2, 3… with no gap, in the order they committed
   * (a run's outbox writes are serialised); null for an event without a run.
   */
  readonly runSeq: number | null;
}

/**
 * The outbox: every event written, in one global order (`seq`), and numbered per run (`runSeq`).
 * A run's events are written one transaction at a time, so they commit in `runSeq` order, which
 * is also their `seq` order.
 */
export interface OutboxStore {
  /** Events with seq > afterSeq, oldest first. */
  listAfter(afterSeq: number, limit: number): Promise<OutboxRecord[]>;
  /**
   * A run's events in their run order: `seq` order, which is `runSeq` order for numbered events
   * and the only order of those a replica older than `runSeq` (migration 0070) wrote without one.
   */
  listByRun(runId: string): Promise<OutboxRecord[]>;
  /** Append events not tied to a state change (component-reported events). */
  append(events: readonly NewOutboxEvent[]): Promise<void>;
}

/** Delivery of one outbox event to one sink. */
export type DeliveryState = 'pending' | 'delivered' | 'dead';

/** The delivery of one outbox event to one sink, with the event's identifying fields. */
export interface DeliveryRecord {
  readonly eventSeq: number;
  readonly eventId: string;
  readonly runId: string | null;
  readonly type: string;
  readonly sink: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly lastError: string | null;
  /** epoch ms before which no new attempt is made */
  readonly nextAttemptAt: number;
  readonly deliveredAt: number | null;
  /** when the current streak of failed attempts began (null: none failed since the last (re)delivery) */
  readonly firstFailedAt: number | null;
}

/** A pending delivery as the delivery worker reads it (`DeliveryStore.listPending`). */
export interface PendingDelivery extends DeliveryRecord {
  readonly event: OutboxRecord;
  readonly previous: DeliveryState | 'missing' | null;
}

/** Which deliveries `DeliveryStore.list` and `redeliver` take; absent fields do not filter. */
export interface DeliveryFilter {
  readonly sink?: string;
  readonly state?: DeliveryState;
  readonly runId?: string;
  readonly eventId?: string;
  /** an event type pattern (events/type-pattern.ts): exact, unversioned (any `.M.m.p`) or a `*` glob */
  readonly type?: string;
  /** cursor: only deliveries after this one in `list` order (newest event first, then sink name) */
  readonly after?: { readonly eventSeq: number; readonly sink: string };
  /** default 100 */
  readonly limit?: number;
}

/**
 * Delivery state of outbox events per sink. The delivery worker (src/events) is the only writer.
 * Order per run and sink: the worker delivers a run's events in `eventSeq` order.
 */
export interface DeliveryStore {
  /**
   * Create `pending` rows for `sink` for every outbox event it has no row for yet, or only among
   * events with seq > `afterSeq` when given (a bounded scan). Returns how many.
   */
  enqueueNew(sink: string, now: number, afterSeq?: number): Promise<number>;
  /**
   * `pending` deliveries of `sink`, oldest event first, with their events (due or not), and the
   * state of the delivery to `sink` of the run's previous event (`runSeq - 1`): `missing` when
   * that event exists but has no delivery row for `sink` yet (a bounded `enqueueNew` missed it),
   * null when there is no previous event (the first, one without a run, or one deleted) and for
   * an event without a `runSeq` (written by a replica older than migration 0070): those go in
   * `eventSeq` order among their run's pending events and wait for nothing else.
   */
  listPending(sink: string, limit: number): Promise<PendingDelivery[]>;
  markDelivered(sink: string, eventSeq: number, at: number): Promise<void>;
  /**
   * Count a failed attempt made at `failedAt` (which starts the streak `firstFailedAt` when none
   * runs); `dead` moves it to the dead-letter state.
   */
  markFailed(
    sink: string,
    eventSeq: number,
    error: string,
    nextAttemptAt: number,
    dead: boolean,
    failedAt?: number,
  ): Promise<void>;
  /**
   * Move a pending delivery to the dead-letter state without an attempt (`reason` as its last
   * error): its run's earlier event is a dead letter, and sending it would break the run's order.
   */
  markHeldBack(sink: string, eventSeq: number, reason: string): Promise<void>;
  list(filter?: DeliveryFilter): Promise<DeliveryRecord[]>;
  /**
   * Move matching `dead` deliveries back to `pending`, due now, with their attempts and failure
   * streak reset, together with the dead deliveries of the same run and sink that come before
   * them (so that the run's order holds: a run's event is never sent before its earlier ones).
   * Returns how many.
   */
  redeliver(filter: DeliveryFilter, now: number): Promise<number>;
  /** How many deliveries are `pending`, over all sinks (the delivery backlog, for `/metrics`). */
  countPending(): Promise<number>;
}

/**
 * Leases that let several engine replicas share one store while only one of them delivers to a
 * given sink at a time: the delivery worker (events/delivery-worker.ts) holds a sink's lease while
 * it sends to it and renews it well before it expires. A replica that dies stops renewing; another
 * takes the sink over once the lease has expired. Sends in flight at that moment may be repeated
 * by the new holder, which at-least-once delivery already allows (receivers deduplicate by id).
 */
export interface SinkLeaseStore {
  /**
   * Take or renew the lease on `sink` for `owner` until `expiresAt` (epoch ms). Succeeds (true)
   * when nobody holds it, when `owner` already does, or when the holder's lease ended before
   * `now`, or when the holder is `replacing` (an owner the caller knows to be gone); fails
   * (false) while another owner's lease runs. Atomic across processes.
   */
  acquire(sink: string, owner: string, now: number, expiresAt: number, replacing?: string): Promise<boolean>;
  /** Give the lease up if `owner` holds it, so another replica can take the sink at once. */
  release(sink: string, owner: string): Promise<void>;
  /** Who holds `sink` and until when (a lease past `expiresAt` is free), if anyone ever did. */
  holder(sink: string): Promise<{ readonly owner: string; readonly expiresAt: number } | undefined>;
}
