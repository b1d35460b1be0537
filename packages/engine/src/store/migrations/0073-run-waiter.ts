import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * `runs.waiter`: the replica of a `pilotage run` process that started the run and waits to carry
 * it while it is queued (a `maxRuns` cap or a concurrency group makes it wait for a claim). Only
 * that process claims it: another replica would lack the `--secret` values it was given, and
 * nobody would be watching. When that process dies, the run is ended as its running runs are
 * (`endAbandonedRuns`) instead of waiting for ever, or being run by a `serve` on the same store.
 */
export function runWaiterMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('runs').addColumn('waiter', 'text').execute();
    },
  };
}
