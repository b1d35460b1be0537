import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { NewOutboxEvent } from '../types.js';
import { recordChange, type ChangeToRecord } from './record-change.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** A state move's compare-and-set update, compiled: one row with the state it replaced when it moved. */
export type MoveUpdate = CompiledQuery<{ readonly previous_state: string | null }>;

/**
 * Run a state move's `update`, then write its transition row and its `events` (as
 * `recordChange`), all or nothing; true when it moved. In a transaction when `db` is one, else
 * in its own.
 *
 * On PostgreSQL, when every event is of one run (a run's or task run's move always is), it is
 * ONE statement: the update and the inserts as data-modifying CTEs that depend on the update's
 * row, so nothing is written when it did not move. A move then costs one round trip instead of
 * six (begin, update, transition, event counter, event, commit); every statement sent is a
 * socket write and a wake-up of the server and the replica, the largest CPU cost of a replica
 * (bench/README.md, "Replicas"). The order of effects is the same as with `recordChange`: the
 * update's row locks (and the owner guard's share lock) first, the run's event counter after
 * them and held until commit, so a run's events still commit in `run_seq` order.
 */
export async function moveAndRecord(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  update: MoveUpdate,
  change: Omit<ChangeToRecord, 'from'>,
  events: readonly NewOutboxEvent[] = [],
): Promise<boolean> {
  const runId = events[0]?.runId ?? null;
  if (dialect.name === 'postgres' && events.every((e) => e.runId === runId && runId !== null)) {
    const { rows } = await db.executeQuery(oneStatement(update, change, events, runId));
    return rows.length > 0;
  }
  const moveIn = async (trx: Transaction<StoreSchema>): Promise<boolean> => {
    const moved = (await trx.executeQuery(update)).rows[0];
    if (moved === undefined) return false;
    await recordChange(trx, dialect, { ...change, from: moved.previous_state }, events);
    return true;
  };
  return db.isTransaction ? moveIn(db as Transaction<StoreSchema>) : db.transaction().execute(moveIn);
}

/** Per update SQL text: the one-statement move's text (with and without events). */
const statementTexts = new Map<string, string>();

/**
 * The one PostgreSQL statement of a move: `update`'s parameters first ($1…$n), then the
 * transition's (entity, to, at, reason) and, with events, the run id, the event count and the
 * events as one JSON array (each numbered `ord` 1, 2… in order; `run_seq` = counter − count + ord).
 */
function oneStatement(
  update: MoveUpdate,
  change: Omit<ChangeToRecord, 'from'>,
  events: readonly NewOutboxEvent[],
  runId: string | null,
): MoveUpdate {
  const withEvents = events.length > 0;
  const key = `${withEvents ? 'e' : '-'}${update.sql}`;
  let text = statementTexts.get(key);
  if (text === undefined) {
    const n = update.parameters.length;
    const p = (i: number): string => `$${n + i}`;
    text =
      `with moved as (${update.sql}), ` +
      `recorded as (insert into transitions (entity_id, from_state, to_state, at, reason) ` +
      `select ${p(1)}::text, previous_state, ${p(2)}::text, ${p(3)}::bigint, ${p(4)}::text from moved)`;
    if (withEvents) {
      text +=
        `, counter as (insert into run_event_seqs (run_id, last_seq) select ${p(5)}::text, ${p(6)}::bigint from moved ` +
        `on conflict (run_id) do update set last_seq = run_event_seqs.last_seq + excluded.last_seq returning last_seq), ` +
        `written as (insert into outbox (id, run_id, type, payload, created_at, run_seq) ` +
        `select e.id, ${p(5)}::text, e.type, e.payload, e.created_at, counter.last_seq - ${p(6)}::bigint + e.ord ` +
        `from counter cross join jsonb_to_recordset(${p(7)}::jsonb) ` +
        `as e(ord bigint, id text, type text, payload jsonb, created_at bigint) order by e.ord)`;
    }
    text += ' select previous_state from moved';
    statementTexts.set(key, text);
  }
  const parameters = [...update.parameters, change.entityId, change.to, change.at, change.reason];
  if (withEvents) {
    const json = events.map((e, i) => ({
      ord: i + 1,
      id: e.id,
      type: e.type,
      payload: e.payload,
      created_at: e.createdAt,
    }));
    parameters.push(runId, events.length, JSON.stringify(json));
  }
  return CompiledQuery.raw(text, parameters) as MoveUpdate;
}
