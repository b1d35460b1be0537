import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * The per task run caps' counters (domain/task-run-limits.ts), kept on the task run's row so that
 * the statement reserving a status or log seq also checks and counts, whichever replica writes:
 * `status_bytes`/`log_bytes` stored so far, and what the caps dropped (`statuses_dropped`,
 * `log_lines_dropped`, `log_bytes_dropped`). bigint: a runaway log counts past 2 GiB.
 */
export function taskRunLimitsMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const column of [
        'status_bytes',
        'statuses_dropped',
        'log_bytes',
        'log_lines_dropped',
        'log_bytes_dropped',
      ]) {
        await db.schema
          .alterTable('task_runs')
          .addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
      }
    },
  };
}
