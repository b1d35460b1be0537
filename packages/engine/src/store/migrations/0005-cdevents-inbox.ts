import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * Incoming CDEvents and shared delivery:
 * - `cdevents_inbox`: one row per incoming event, keyed by (`source`, `id`), so a redelivered
 *   event is recognised (the primary key makes the check atomic across replicas);
 * - `sink_leases`: which engine replica delivers to each sink, and until when.
 */
export function cdeventsInboxMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await dialect
        .clustered(
          db.schema
            .createTable('cdevents_inbox')
            .addColumn('source', 'text', (c) => c.notNull())
            .addColumn('id', 'text', (c) => c.notNull())
            .addColumn('type', 'text', (c) => c.notNull())
            .addColumn('received_at', 'bigint', (c) => c.notNull())
            .addColumn('processed_at', 'bigint')
            .addColumn('run_ids', dialect.jsonType, (c) => c.notNull())
            .addPrimaryKeyConstraint('cdevents_inbox_pkey', ['source', 'id']),
        )
        .execute();

      await db.schema
        .createTable('sink_leases')
        .addColumn('sink', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
