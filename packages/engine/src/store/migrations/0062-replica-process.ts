import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * `replicas.process`: the engine process identity of a replica (`<pid>.<start time>`, see
 * executor/local/process-mark.ts), kept apart from its id so that ids (which runs show as their
 * owner to every reader) hold no pid; a replica on the same host uses it to tell a crashed one.
 */
export function replicaProcessMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('replicas').addColumn('process', 'text').execute();
    },
  };
}
