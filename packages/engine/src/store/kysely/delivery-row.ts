import type { DeliveryRecord, DeliveryState } from '../types.js';

/** A delivery joined with the identifying columns of its outbox event. */
export interface DeliveryRow {
  sink: string;
  event_seq: number;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  delivered_at: number | null;
  first_failed_at: number | null;
  event_id: string;
  run_id: string | null;
  type: string;
}

/** The columns of a `DeliveryRow`, for `select` over `deliveries as d` joined with `outbox as o`. */
export const DELIVERY_COLUMNS = [
  'd.sink',
  'd.event_seq',
  'd.state',
  'd.attempts',
  'd.last_error',
  'd.next_attempt_at',
  'd.delivered_at',
  'd.first_failed_at',
  'o.id as event_id',
  'o.run_id',
  'o.type',
] as const;

/** A joined delivery row as the `DeliveryRecord` the delivery worker and the API see. */
export function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  return {
    eventSeq: row.event_seq,
    eventId: row.event_id,
    runId: row.run_id,
    type: row.type,
    sink: row.sink,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    firstFailedAt: row.first_failed_at === null ? null : Number(row.first_failed_at),
  };
}
