import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * The workflow language's matrix and run outputs:
 * - `task_runs.matrix` holds, for a task run of one combination of a matrix action,
 *   `{action, index, values}` (the plan action's name, the combination's place and its values);
 *   SQL NULL for every other task run;
 * - `runs.outputs` holds a run's declared outputs once it ended (SQL NULL before, or when the
 *   workflow declares none).
 */
export function matrixMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('task_runs').addColumn('matrix', dialect.jsonType).execute();
      await db.schema.alterTable('runs').addColumn('outputs', dialect.jsonType).execute();
    },
  };
}
