import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * The action result cache: one row per entry, keyed by the sha256 of its scope and key, with the
 * outputs it restores and the workspace paths saved under its key in the cache folder. Indexed
 * by last use (eviction) and by workflow and action (`pilotage cache clear --workflow`).
 */
export function actionCacheMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cache_entries')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('workflow', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('task_run_id', 'text', (c) => c.notNull())
        .addColumn('output', dialect.jsonType, (c) => c.notNull())
        .addColumn('paths', dialect.jsonType, (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cache_entries_last_used_idx').on('cache_entries').column('last_used_at').execute();
      await db.schema
        .createIndex('cache_entries_workflow_action_idx')
        .on('cache_entries')
        .columns(['workflow', 'action'])
        .execute();
    },
  };
}
