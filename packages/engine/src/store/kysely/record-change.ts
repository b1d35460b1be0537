import { sql, type CompiledQuery, type Transaction } from 'kysely';
import type { NewOutboxEvent } from '../types.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { chunked } from './chunked.js';
import { bindCompiled, parameterMarker as marker } from './compiled-statement.js';

/** The two inserts of every state change, compiled once per dialect (see `bindCompiled`). */
interface ChangeStatements {
  /** `[entityId, from, to, at, reason]` */
  transition(values: readonly unknown[]): CompiledQuery;
  /** `[id, runId, type, payload (encoded), createdAt, runSeq]`: one outbox row */
  event(values: readonly unknown[]): CompiledQuery;
  /** `[runId, count]`: add `count` to the run's event counter (row-locked until commit); returns `last_seq` */
  reserve(values: readonly unknown[]): CompiledQuery<{ last_seq: number | string }>;
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
        run_seq: marker(5) as unknown as number,
      })
      .compile();
    const reserve = trx
      .insertInto('run_event_seqs')
      .values({ run_id: marker(0), last_seq: marker(1) as unknown as number })
      .onConflict((oc) =>
        oc.column('run_id').doUpdateSet({ last_seq: sql<number>`run_event_seqs.last_seq + excluded.last_seq` }),
      )
      .returning('last_seq')
      .compile();
    statements = {
      transition: bindCompiled(transition, 5),
      event: bindCompiled(event, 6),
      reserve: bindCompiled(reserve, 2),
    };
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
  if (events.length === 0) return;
  const runSeqs = await reserveRunSeqs(trx, statements, events);
  // one event at a time (a state change has at most a few) through the compiled insert
  for (const [i, e] of events.entries()) {
    await trx.executeQuery(
      statements.event([e.id, e.runId, e.type, dialect.encodeJson(e.payload), e.createdAt, runSeqs[i]]),
    );
  }
}

/**
 * Number `events` within their runs: for each run among them (in id order, so two transactions
 * writing events of the same runs lock the counters in one order and cannot deadlock), add its
 * count to the run's counter and hand out the numbers in array order. The counter's row stays
 * locked until the caller's transaction ends, which serialises a run's outbox writes on
 * PostgreSQL: a run's events commit in `run_seq` order (and in `seq` order, since the outbox
 * insert comes after the lock). SQLite has one writer anyway. Events without a run get null.
 * Callers write events last in their transaction, so a transaction holding a counter never waits
 * for another lock (the run row's share lock of the owner guard is taken before).
 */
async function reserveRunSeqs(
  trx: Transaction<StoreSchema>,
  statements: ChangeStatements,
  events: readonly NewOutboxEvent[],
): Promise<(number | null)[]> {
  const counts = new Map<string, number>();
  for (const e of events) if (e.runId !== null) counts.set(e.runId, (counts.get(e.runId) ?? 0) + 1);
  const next = new Map<string, number>();
  for (const runId of [...counts.keys()].sort()) {
    const count = counts.get(runId)!;
    const { rows } = await trx.executeQuery(statements.reserve([runId, count]));
    next.set(runId, Number(rows[0]!.last_seq) - count + 1);
  }
  return events.map((e) => {
    if (e.runId === null) return null;
    const seq = next.get(e.runId)!;
    next.set(e.runId, seq + 1);
    return seq;
  });
}

/** Append outbox events in order (their `seq`, and `run_seq` within each run, follow the array order). */
export async function insertEvents(
  trx: Transaction<StoreSchema>,
  dialect: StoreDialect,
  events: readonly NewOutboxEvent[],
): Promise<void> {
  const runSeqs = await reserveRunSeqs(trx, changeStatements(trx, dialect), events);
  let offset = 0;
  for (const batch of chunked(events, 500)) {
    await trx
      .insertInto('outbox')
      .values(
        batch.map((e, i) => ({
          id: e.id,
          run_id: e.runId,
          type: e.type,
          payload: dialect.encodeJson(e.payload),
          created_at: e.createdAt,
          run_seq: runSeqs[offset + i] ?? null,
        })),
      )
      .execute();
    offset += batch.length;
  }
}
