import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * Reusable workflows: a run started by an action that `uses:` a workflow records its parent run
 * and the parent's task run (`parent_run_id`, `parent_task_run_id`; SQL NULL for other runs),
 * indexed to list a run's children. A child is deleted with its parent.
 */
export function childRunsMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('runs')
        .addColumn('parent_run_id', 'text', (c) => c.references('runs.id').onDelete('cascade'))
        .execute();
      await db.schema.alterTable('runs').addColumn('parent_task_run_id', 'text').execute();
      // list({parentRunId}): a run's children, oldest first
      await db.schema.createIndex('runs_parent_run_id_idx').on('runs').columns(['parent_run_id', 'id']).execute();
    },
  };
}
