import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * `task_runs.sealed_event_data`: a task run's event data as the component got it, sealed with the
 * secret store's key, when the stored `event_data` has secrets masked. Any replica holding the
 * key can then serve `GET /data` to the component, and a replica taking the run over re-opens
 * its callback session with the data as sent. SQL NULL when masking changed nothing.
 */
export function sealedEventDataMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('task_runs').addColumn('sealed_event_data', 'text').execute();
    },
  };
}
