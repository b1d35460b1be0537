import type { JsonObject } from '../../domain/vocabulary.js';
import type { OutboxRecord } from '../types.js';
import type { StoreDialect } from './store-dialect.js';

/** The outbox columns as selected (possibly under a join, so named explicitly). */
export interface OutboxRow {
  seq: number;
  id: string;
  run_id: string | null;
  type: string;
  payload: unknown;
  created_at: number;
  run_seq: number | string | null;
}

/** An `outbox` row as the `OutboxRecord` the delivery worker sees. */
export function toOutboxRecord(row: OutboxRow, dialect: StoreDialect): OutboxRecord {
  return {
    seq: row.seq,
    id: row.id,
    runId: row.run_id,
    type: row.type,
    payload: dialect.decodeJson(row.payload) as JsonObject,
    createdAt: row.created_at,
    runSeq: row.run_seq === null ? null : Number(row.run_seq),
  };
}
