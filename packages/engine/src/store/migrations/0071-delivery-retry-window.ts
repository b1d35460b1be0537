import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * `deliveries.first_failed_at`: when the current streak of failed attempts of a delivery began
 * (epoch ms; null while none failed, and again after a redelivery), so the delivery worker
 * retries for a window of time (default 24 h) rather than a number of attempts (issue 12 item 6).
 */
export function deliveryRetryWindowMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('deliveries').addColumn('first_failed_at', 'bigint').execute();
    },
  };
}
