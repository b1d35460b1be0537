import { Migrator, type Kysely } from 'kysely';
import { StoreError } from '../store-error.js';
import type { StoreDialect } from '../kysely/store-dialect.js';
import { StaticMigrationProvider } from './migration-provider.js';

/**
 * Bring the schema up to date. Kysely's migrator takes a lock (an advisory lock on PostgreSQL),
 * so replicas starting together apply each migration once. Throws `StoreError` naming the
 * migration that failed.
 */
export async function migrate(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new StaticMigrationProvider(dialect),
    migrationTableName: 'pilotage_migrations',
    migrationLockTableName: 'pilotage_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreError(
      `could not migrate the ${dialect.name} store${failed === undefined ? '' : ` (migration ${failed})`}: ${String(error)}`,
      { cause: error },
    );
  }
}
