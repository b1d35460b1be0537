import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { NewOutboxEvent } from '../types.js';
import { markReused } from './compiled-statement.js';
import { recordChanges, type ChangeToRecord } from './record-change.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { executeCompiled, inTransaction } from './direct.js';

/** A state move's compare-and-set update, compiled: one row with the state it replaced when it moved. */
export type MoveUpdate = CompiledQuery<{ readonly previous_state: string | null }>;

/** A state change to record; without `from`, the state the written row reports as `previous_state`. */
export type RecordedChange = Omit<ChangeToRecord, 'from'> & { readonly from?: string | null };

/**
 * Run a state move's `update`, then write its transition row and its `events` (as
 * `recordChange`), all or nothing; true when it moved (`writeAndRecord` with one change).
 */
export async function moveAndRecord(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  update: MoveUpdate,
  change: Omit<ChangeToRecord, 'from'>,
  events: readonly NewOutboxEvent[] = [],
): Promise<boolean> {
  return (await writeAndRecord(db, dialect, update, [change], events)) !== undefined;
}

/**
 * Run `write` (an insert or a compare-and-set update of one entity, returning its row, or none
 * when it wrote nothing), then write `changes`' transition rows in order and `events` after
 * them (as `recordChange`), all or nothing. Resolves with the row `write` returned, or undefined
 * having recorded nothing. In a transaction when `db` is one, else in its own.
 *
 * On PostgreSQL, when every event is of one run (a run's or task run's write always is), it is
 * ONE statement: `write` and the inserts as data-modifying CTEs that depend on its row, so
 * nothing is recorded when it wrote nothing. A move then costs one round trip instead of six
 * (begin, update, transition, event counter, event, commit); every statement sent is a socket
 * write and a wake-up of the server and the replica, the largest CPU cost of a replica
 * (bench/README.md, "Replicas"). The order of effects is the same as with `recordChange`:
 * `write`'s row locks (and an owner guard's share lock) first, the run's event counter after
 * them and held until commit, so a run's events still commit in `run_seq` order.
 */
export async function writeAndRecord<R extends object>(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  write: CompiledQuery<R>,
  changes: readonly RecordedChange[],
  events: readonly NewOutboxEvent[] = [],
  prelude?: Prelude,
): Promise<R | undefined> {
  if (fitsOneStatement(dialect, events)) {
    const { rows } = await db.executeQuery(oneStatement(write, changes, events, events[0]?.runId ?? null, prelude));
    return rows[0];
  }
  if (prelude !== undefined) throw new TypeError('a prelude is for the one PostgreSQL statement only');
  const writeIn = async (trx: Transaction<StoreSchema>): Promise<R | undefined> => {
    const row = (await executeCompiled(trx, dialect, write)).rows[0];
    if (row === undefined) return undefined;
    const previous = (row as { previous_state?: string | null }).previous_state ?? null;
    const recorded = changes.map((change) => ({ ...change, from: change.from === undefined ? previous : change.from }));
    await recordChanges(trx, dialect, recorded, events);
    return row;
  };
  return db.isTransaction ? writeIn(db as Transaction<StoreSchema>) : inTransaction(db, dialect, writeIn);
}

/** Whether `writeAndRecord` writes in one statement: on PostgreSQL, with events all of one run (or none). */
export function fitsOneStatement(dialect: StoreDialect, events: readonly NewOutboxEvent[]): boolean {
  const runId = events[0]?.runId ?? null;
  return dialect.name === 'postgres' && events.every((e) => e.runId === runId && runId !== null);
}

/**
 * PostgreSQL only (`fitsOneStatement`): a statement `write` reads as table `name` (a data-modifying one must be a CTE
 * of the top-level statement, so it cannot sit inside `write`'s own WITH).
 */
export interface Prelude {
  readonly name: string;
  readonly query: CompiledQuery;
}

/** Per statement shape: the one-statement text. */
const statementTexts = new Map<string, string>();

/**
 * The one PostgreSQL statement: the prelude's parameters first, `write`'s next, then each change's (entity,
 * from when given, to, at, reason) and, with events, the run id, the event count and the events
 * as one JSON array (each numbered `ord` 1, 2… in order; `run_seq` = counter − count + ord).
 */
function oneStatement<R>(
  write: CompiledQuery<R>,
  changes: readonly RecordedChange[],
  events: readonly NewOutboxEvent[],
  runId: string | null,
  prelude: Prelude | undefined,
): CompiledQuery<R> {
  const withEvents = events.length > 0;
  const shape = changes.map((c) => (c.from === undefined ? 'p' : 'f')).join('');
  const key = `${shape}:${withEvents ? 'e' : '-'}:${prelude?.name ?? ''}:${prelude?.query.sql ?? ''}:${write.sql}`;
  const before = prelude?.query.parameters ?? [];
  const parameters: unknown[] = [...before, ...write.parameters];
  const p = (value: unknown): string => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  const selects = changes.map(
    (c) =>
      `select ${p(c.entityId)}::text, ${c.from === undefined ? 'previous_state' : `${p(c.from)}::text`}, ` +
      `${p(c.to)}::text, ${p(c.at)}::bigint, ${p(c.reason)}::text from moved`,
  );
  const eventParameters = withEvents
    ? {
        run: p(runId),
        count: p(events.length),
        json: p(
          JSON.stringify(
            events.map((e, i) => ({ ord: i + 1, id: e.id, type: e.type, payload: e.payload, created_at: e.createdAt })),
          ),
        ),
      }
    : undefined;
  let text = statementTexts.get(key);
  if (text === undefined) {
    // `write` numbers its parameters from $1; after the prelude's they move up (Kysely never
    // inlines a value, so every `$n` in its text is a parameter)
    const shifted = write.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + before.length}`);
    text =
      (prelude === undefined ? 'with ' : `with ${prelude.name} as (${prelude.query.sql}), `) +
      `moved as (${shifted}), ` +
      `recorded as (insert into transitions (entity_id, from_state, to_state, at, reason) ${selects.join(' union all ')})`;
    if (eventParameters !== undefined) {
      const { run, count, json } = eventParameters;
      text +=
        `, counter as (insert into run_event_seqs (run_id, last_seq) select ${run}::text, ${count}::bigint from moved ` +
        `on conflict (run_id) do update set last_seq = run_event_seqs.last_seq + excluded.last_seq returning last_seq), ` +
        `written as (insert into outbox (id, run_id, type, payload, created_at, run_seq) ` +
        `select e.id, ${run}::text, e.type, e.payload, e.created_at, counter.last_seq - ${count}::bigint + e.ord ` +
        `from counter cross join jsonb_to_recordset(${json}::jsonb) ` +
        `as e(ord bigint, id text, type text, payload jsonb, created_at bigint) order by e.ord)`;
    }
    text += ' select * from moved';
    statementTexts.set(key, text);
    markReused(text);
  }
  return CompiledQuery.raw(text, parameters) as CompiledQuery<R>;
}
