import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * `runs.sealed_inputs`: a run's inputs as sent, encrypted, kept only when they hold a secret
 * (the `inputs` column holds them masked). The engine reads them back to resume the run after a
 * restart and to rerun it; nothing serves them.
 */
export function sealedInputsMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('runs').addColumn('sealed_inputs', 'text').execute();
    },
  };
}
