import { sql, type CompiledQuery, type Transaction } from 'kysely';
import type { NewOutboxEvent } from '../types.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { chunked } from './chunked.js';
import { bindCompiled, parameterMarker as marker } from './compiled-statement.js';
import { executeCompiled } from './direct.js';

/**
 * Most rows one compiled insert of transitions or of outbox events holds: a state change writes a
 * few (a task run's end: two transitions and two events), so a few shapes cover them; more go in
 * several statements.
 */
const MAX_ROWS = 4;

/** The inserts of every state change, compiled once per dialect and row count (see `bindCompiled`). */
interface ChangeStatements {
  /** `rows` transitions, `[entityId, from, to, at, reason]` each, in one statement */
  transitions: RowsInsert;
  /** `rows` outbox rows, `[id, runId, type, payload (encoded), createdAt, runSeq]` each, in one statement */
  events: RowsInsert;
  /** `[runId, count]`: add `count` to the run's event counter (row-locked until commit); returns `last_seq` */
  reserve(values: readonly unknown[]): CompiledQuery<{ last_seq: number | string }>;
}

const compiledFor = new WeakMap<StoreDialect, ChangeStatements>();

/** The statement inserting `rows` rows of `values` (compiled with `trx` the first time). */
type RowsInsert = (trx: Transaction<StoreSchema>, rows: number, values: readonly unknown[]) => CompiledQuery;

/**
 * A multi-row insert into `table` of `columns` (in the order of each row's values), compiled once
 * per row count (1…MAX_ROWS) with markers for its values and bound to real ones at each call.
 */
function rowsInsert(table: 'transitions' | 'outbox', columns: readonly string[]): RowsInsert {
  const bound = new Map<number, (values: readonly unknown[]) => CompiledQuery>();
  return (trx, rows, values) => {
    let statement = bound.get(rows);
    if (statement === undefined) {
      const marked = Array.from({ length: rows }, (_, r) =>
        Object.fromEntries(columns.map((column, c) => [column, marker(r * columns.length + c)])),
      );
      // markers stand in for every column's value, whatever its type
      statement = bindCompiled(
        trx
          .insertInto(table)
          .values(marked as never)
          .compile(),
        rows * columns.length,
      );
      bound.set(rows, statement);
    }
    return statement(values);
  };
}

function changeStatements(trx: Transaction<StoreSchema>, dialect: StoreDialect): ChangeStatements {
  let statements = compiledFor.get(dialect);
  if (statements === undefined) {
    const transitions = rowsInsert('transitions', ['entity_id', 'from_state', 'to_state', 'at', 'reason']);
    const events = rowsInsert('outbox', ['id', 'run_id', 'type', 'payload', 'created_at', 'run_seq']);
    const reserve = trx
      .insertInto('run_event_seqs')
      .values({ run_id: marker(0), last_seq: marker(1) as unknown as number })
      .onConflict((oc) =>
        oc.column('run_id').doUpdateSet({ last_seq: sql<number>`run_event_seqs.last_seq + excluded.last_seq` }),
      )
      .returning('last_seq')
      .compile();
    statements = { transitions, events, reserve: bindCompiled(reserve, 2) };
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
export function recordChange(
  trx: Transaction<StoreSchema>,
  dialect: StoreDialect,
  change: ChangeToRecord,
  events: readonly NewOutboxEvent[] = [],
): Promise<void> {
  return recordChanges(trx, dialect, [change], events);
}

/**
 * Write the transition rows of `changes` (in order) and then the outbox events (their `seq`, and
 * `run_seq` within each run, follow the array order), inside the caller's transaction: a few rows
 * per statement (MAX_ROWS), since each statement costs more than its rows on the per-task path.
 * With no changes, it appends the events alone (the outbox store's `append`).
 */
export async function recordChanges(
  trx: Transaction<StoreSchema>,
  dialect: StoreDialect,
  changes: readonly ChangeToRecord[],
  events: readonly NewOutboxEvent[] = [],
): Promise<void> {
  const statements = changeStatements(trx, dialect);
  for (const batch of chunked(changes, MAX_ROWS)) {
    const values = batch.flatMap((c) => [c.entityId, c.from, c.to, c.at, c.reason]);
    await executeCompiled(trx, dialect, statements.transitions(trx, batch.length, values));
  }
  if (events.length === 0) return;
  const runSeqs = await reserveRunSeqs(trx, dialect, statements, events);
  let offset = 0;
  for (const batch of chunked(events, MAX_ROWS)) {
    const values = batch.flatMap((e, i) => [
      e.id,
      e.runId,
      e.type,
      dialect.encodeJson(e.payload),
      e.createdAt,
      runSeqs[offset + i],
    ]);
    await executeCompiled(trx, dialect, statements.events(trx, batch.length, values));
    offset += batch.length;
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
  dialect: StoreDialect,
  statements: ChangeStatements,
  events: readonly NewOutboxEvent[],
): Promise<(number | null)[]> {
  const counts = new Map<string, number>();
  for (const e of events) if (e.runId !== null) counts.set(e.runId, (counts.get(e.runId) ?? 0) + 1);
  const next = new Map<string, number>();
  for (const runId of [...counts.keys()].sort()) {
    const count = counts.get(runId)!;
    const { rows } = await executeCompiled(trx, dialect, statements.reserve([runId, count]));
    next.set(runId, Number(rows[0]!.last_seq) - count + 1);
  }
  return events.map((e) => {
    if (e.runId === null) return null;
    const seq = next.get(e.runId)!;
    next.set(e.runId, seq + 1);
    return seq;
  });
}
