import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { ContractStep } from '../types.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { stepMarkedOnce } from './task-run-row.js';
import { bindCompiled, parameterMarker } from './compiled-statement.js';

/** The contract step a report records on its task run (`StatusStore.record`). */
const STATUS_STEP: ContractStep = 'task-status';

/** The statements of every report, compiled once: Kysely otherwise builds, freezes and compiles them per call. */
export interface StatusStatements {
  /** `[count, taskRunId]` → the task run's `status_seq` after adding `count` (no row: unknown task run) */
  reserve(values: readonly [number, string]): CompiledQuery<{ status_seq: number }>;
  /**
   * `[count, message, output (encoded), stepAt, taskRunId]` → as `reserve`, and in the same
   * statement: `message`/`output` set when not null, the `task-status` step marked when absent.
   */
  reserveAndApply(
    values: readonly [number, string | null, string | null, number, string],
  ): CompiledQuery<{ status_seq: number }>;
  /** `[taskRunId, seq, at, message, progress, output]` → one status row */
  insert(values: readonly [string, number, number, string | null, number | null, string | null]): CompiledQuery;
}

/**
 * Compile the statements with marker values, note where each marker landed among the
 * parameters, and return functions that put real values there (any other parameter, such as a
 * dialect's JSON path, is a constant and kept). Same SQL as the query builder writes (the same
 * as `reserveSeq`, `markStep` and the insert builder), one compilation per store.
 */
export function compileStatusStatements(db: Kysely<StoreSchema>, dialect: StoreDialect): StatusStatements {
  const marker = parameterMarker;
  const bind = bindCompiled;
  const reserve = db
    .updateTable('task_runs')
    .set({ status_seq: sql<number>`${sql.ref('status_seq')} + ${marker(0)}` })
    .where('id', '=', marker(1))
    .returning('status_seq')
    .compile();
  const reserveAndApply = db
    .updateTable('task_runs')
    .set({
      status_seq: sql<number>`${sql.ref('status_seq')} + ${marker(0)}`,
      message: sql<string | null>`coalesce(${marker(1)}, ${sql.ref('message')})`,
      output: sql<string>`coalesce(${marker(2)}, ${sql.ref('output')})`,
      steps: stepMarkedOnce(dialect, STATUS_STEP, marker(3) as unknown as number),
    })
    .where('id', '=', marker(4))
    .returning('status_seq')
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
  return { reserve: bind(reserve, 2), reserveAndApply: bind(reserveAndApply, 5), insert: bind(insert, 6) };
}
