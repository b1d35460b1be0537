import type { Transaction } from 'kysely';
import type { NewOutboxEvent } from '../types.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { chunked } from './chunked.js';

/** A state change to record beside the entity's new state. */
export interface ChangeToRecord {
  readonly entityId: string;
  readonly from: string | null;
  readonly to: string;
  readonly at: number;
  readonly reason: string | null;
}

/**
 * Write the transition row and the outbox events of one state change, inside the caller's
 * transaction: the change, its history and its events commit or vanish together.
 */
export async function recordChange(
  trx: Transaction<StoreSchema>,
  dialect: StoreDialect,
  change: ChangeToRecord,
  events: readonly NewOutboxEvent[] = [],
): Promise<void> {
  await trx
    .insertInto('transitions')
    .values({
      entity_id: change.entityId,
      from_state: change.from,
      to_state: change.to,
      at: change.at,
      reason: change.reason,
    })
    .execute();
  await insertEvents(trx, dialect, events);
}

/** Append outbox events in order (their `seq` follows the array order). */
export async function insertEvents(
  trx: Transaction<StoreSchema>,
  dialect: StoreDialect,
  events: readonly NewOutboxEvent[],
): Promise<void> {
  for (const batch of chunked(events, 500)) {
    await trx
      .insertInto('outbox')
      .values(
        batch.map((e) => ({
          id: e.id,
          run_id: e.runId,
          type: e.type,
          payload: dialect.encodeJson(e.payload),
          created_at: e.createdAt,
        })),
      )
      .execute();
  }
}
