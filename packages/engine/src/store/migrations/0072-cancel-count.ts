import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * `runs.cancel_count`: how many times a cancel of the run was asked (`RunLeaseStore.requestCancel`),
 * so its holder acts on each request once, and a replica taking the run over knows of them: the
 * first stops the run (its finally stages still run), the second stops the finally stages too.
 * Before it, a holder re-read `cancel_requested` at every heartbeat as a new request (and so
 * stopped the finally stages of a run cancelled through another replica), and a cancel received
 * by the holder itself was not recorded (a replica taking the run over ran it on).
 */
export function cancelCountMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('runs')
        .addColumn('cancel_count', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
