import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * The secret store and the trigger bookkeeping:
 * - `secrets`: one row per (scope, name), the value encrypted (never plaintext in the database);
 * - `webhook_deliveries`: delivery ids seen recently, keyed by (workflow, provider, id), so a
 *   redelivered webhook starts no second run (the primary key makes the check atomic);
 * - `cron_claims`: one row per fired tick, keyed by (workflow, trigger, tick time), so a tick
 *   fires once across restarts and replicas.
 * Approvals need no table: the decision is stored on the approval stage's task run.
 */
export function triggersMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await dialect
        .clustered(
          db.schema
            .createTable('secrets')
            .addColumn('scope', 'text', (c) => c.notNull())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('ciphertext', 'text', (c) => c.notNull())
            .addColumn('created_at', 'bigint', (c) => c.notNull())
            .addColumn('updated_at', 'bigint', (c) => c.notNull())
            .addColumn('updated_by', 'text')
            .addPrimaryKeyConstraint('secrets_pkey', ['scope', 'name']),
        )
        .execute();

      await dialect
        .clustered(
          db.schema
            .createTable('webhook_deliveries')
            .addColumn('workflow', 'text', (c) => c.notNull())
            .addColumn('provider', 'text', (c) => c.notNull())
            .addColumn('delivery_id', 'text', (c) => c.notNull())
            .addColumn('received_at', 'bigint', (c) => c.notNull())
            .addColumn('run_id', 'text')
            .addPrimaryKeyConstraint('webhook_deliveries_pkey', ['workflow', 'provider', 'delivery_id']),
        )
        .execute();
      // purge(): deliveries older than the deduplication window
      await db.schema
        .createIndex('webhook_deliveries_received_at_idx')
        .on('webhook_deliveries')
        .column('received_at')
        .execute();

      await dialect
        .clustered(
          db.schema
            .createTable('cron_claims')
            .addColumn('workflow', 'text', (c) => c.notNull())
            .addColumn('trigger_index', 'integer', (c) => c.notNull())
            .addColumn('tick_at', 'bigint', (c) => c.notNull())
            .addColumn('claimed_by', 'text', (c) => c.notNull())
            .addColumn('claimed_at', 'bigint', (c) => c.notNull())
            .addColumn('run_id', 'text')
            .addPrimaryKeyConstraint('cron_claims_pkey', ['workflow', 'trigger_index', 'tick_at']),
        )
        .execute();
      // purge(): claims of old ticks
      await db.schema.createIndex('cron_claims_tick_at_idx').on('cron_claims').column('tick_at').execute();
    },
  };
}
