import type { CompiledQuery, Transaction } from 'kysely';
import type { NewOutboxEvent } from '../types.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { chunked } from './chunked.js';
import { bindCompiled, parameterMarker as marker } from './compiled-statement.js';

/** The two inserts of every state change, compiled once per dialect (see `bindCompiled`). */
interface ChangeStatements {
  /** `[entityId, from, to, at, reason]` */
  transition(values: readonly unknown[]): CompiledQuery;
  /** `[id, runId, type, payload (encoded), createdAt]`: one outbox row */
  event(values: readonly unknown[]): CompiledQuery;
}

const compiledFor = new WeakMap<StoreDialect, ChangeStatements>();

function changeStatements(trx: Transaction<StoreSchema>, dialect: StoreDialect): ChangeStatements {
  let statements = compiledFor.get(dialect);
  if (statements === undefined) {
    const transition = trx
      .insertInto('transitions')
      .values({
        entity_id: marker(0),
        from_state: marker(1),
        to_state: marker(2),
        at: marker(3) as unknown as number,
        reason: marker(4),
      })
      .compile();
    const event = trx
      .insertInto('outbox')
      .values({
        id: marker(0),
        run_id: marker(1),
        type: marker(2),
        payload: marker(3),
        created_at: marker(4) as unknown as number,
      })
      .compile();
    statements = { transition: bindCompiled(transition, 5), event: bindCompiled(event, 5) };
    compiledFor.set(dialect, statements);
  }
  return statements;
}

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
  const statements = changeStatements(trx, dialect);
  await trx.executeQuery(statements.transition([change.entityId, change.from, change.to, change.at, change.reason]));
  // one event at a time (a state change has at most a few) through the compiled insert
  for (const e of events) {
    await trx.executeQuery(statements.event([e.id, e.runId, e.type, dialect.encodeJson(e.payload), e.createdAt]));
  }
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
