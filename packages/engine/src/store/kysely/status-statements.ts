import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { TaskRunLimits } from '../../domain/task-run-limits.js';
import type { ContractStep } from '../types.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { stepMarkedOnce } from './task-run-row.js';
import { bindCompiled, parameterMarker } from './compiled-statement.js';

/** The contract step a report records on its task run (`StatusStore.record`). */
const STATUS_STEP: ContractStep = 'task-status';

/**
 * The statements of every report, compiled once: Kysely otherwise builds, freezes and compiles
 * them per call. The status caps are constants of the statements (a store's caps never change).
 */
export interface StatusStatements {
  /**
   * `[bytes, taskRunId]` → the task run's `status_seq` after taking the next seq, counting
   * `bytes` into `status_bytes`; no row when the task run is unknown OR a status cap refuses
   * the report (the caps reached, or a report dropped before: `drop` then tells which).
   */
  reserve(values: readonly [number, string]): CompiledQuery<{ status_seq: number }>;
  /**
   * `[bytes, message, output (encoded), stepAt, taskRunId]` → as `reserve`, and in the same
   * statement: `message`/`output` set when not null, the `task-status` step marked when absent.
   */
  reserveAndApply(
    values: readonly [number, string | null, string | null, number, string],
  ): CompiledQuery<{ status_seq: number }>;
  /** `[taskRunId]` → `statuses_dropped` after counting one more dropped report (no row: unknown task run) */
  drop(values: readonly [string]): CompiledQuery<{ statuses_dropped: number }>;
  /** `[message, output (encoded), stepAt, taskRunId]` → as `drop`, applying the report as `reserveAndApply` does */
  dropAndApply(
    values: readonly [string | null, string | null, number, string],
  ): CompiledQuery<{ statuses_dropped: number }>;
  /** `[taskRunId, seq, at, message, progress, output]` → one status row */
  insert(values: readonly [string, number, number, string | null, number | null, string | null]): CompiledQuery;
}

/**
 * Compile the statements with marker values, note where each marker landed among the
 * parameters, and return functions that put real values there (any other parameter, such as a
 * dialect's JSON path or a cap, is a constant and kept). Same SQL as the query builder writes
 * (`reserveSeq`, `markStep` and the insert builder), one compilation per store. The cap check is
 * part of the statement that takes the seq: no extra round trip while under the caps.
 */
export function compileStatusStatements(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  limits: TaskRunLimits,
): StatusStatements {
  const marker = parameterMarker;
  const bind = bindCompiled;
  const big = (value: unknown) => sql<number>`cast(${value} as bigint)`;
  const taking = (bytes: unknown) => ({
    status_seq: sql<number>`${sql.ref('status_seq')} + 1`,
    status_bytes: sql<number>`${sql.ref('status_bytes')} + ${big(bytes)}`,
  });
  // sticky: once a report was dropped, later (smaller) ones are dropped too
  const underCaps = (bytes: unknown) =>
    sql<boolean>`${sql.ref('statuses_dropped')} = 0 and ${sql.ref('status_seq')} < ${big(limits.statuses)} and ${sql.ref(
      'status_bytes',
    )} + ${big(bytes)} <= ${big(limits.statusBytes)}`;
  const applying = (first: number) => ({
    message: sql<string | null>`coalesce(${marker(first)}, ${sql.ref('message')})`,
    output: sql<string>`coalesce(${marker(first + 1)}, ${sql.ref('output')})`,
    steps: stepMarkedOnce(dialect, STATUS_STEP, marker(first + 2) as unknown as number),
  });
  const reserve = db
    .updateTable('task_runs')
    .set(taking(marker(0)))
    .where('id', '=', marker(1))
    .where(underCaps(marker(0)))
    .returning('status_seq')
    .compile();
  const reserveAndApply = db
    .updateTable('task_runs')
    .set({ ...taking(marker(0)), ...applying(1) })
    .where('id', '=', marker(4))
    .where(underCaps(marker(0)))
    .returning('status_seq')
    .compile();
  const dropped = { statuses_dropped: sql<number>`${sql.ref('statuses_dropped')} + 1` };
  const drop = db
    .updateTable('task_runs')
    .set(dropped)
    .where('id', '=', marker(0))
    .returning('statuses_dropped')
    .compile();
  const dropAndApply = db
    .updateTable('task_runs')
    .set({ ...dropped, ...applying(0) })
    .where('id', '=', marker(3))
    .returning('statuses_dropped')
    .compile();
  const insert = db
    .insertInto('statuses')
    .values({
      task_run_id: marker(0),
      seq: marker(1) as unknown as number,
      at: marker(2) as unknown as number,
      message: marker(3),
      progress: marker(4) as unknown as number,
      output: marker(5),
    })
    .compile();
  return {
    reserve: bind(reserve, 2),
    reserveAndApply: bind(reserveAndApply, 5),
    drop: bind(drop, 1),
    dropAndApply: bind(dropAndApply, 4),
    insert: bind(insert, 6),
  };
}
