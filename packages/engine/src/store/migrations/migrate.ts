import { Migrator, sql, type Kysely } from 'kysely';
import { StoreError } from '../store-error.js';
import type { StoreDialect } from '../kysely/store-dialect.js';
import type { SchemaStatus } from '../types.js';
import { MIGRATION_NAMES, StaticMigrationProvider } from './migration-provider.js';

/** The table where the migrator records the migrations applied. */
export const MIGRATION_TABLE = 'pilotage_migrations';

function migrator(db: Kysely<unknown>, dialect: StoreDialect): Migrator {
  return new Migrator({
    db,
    provider: new StaticMigrationProvider(dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: 'pilotage_migrations_lock',
    // each area numbers its migrations in a block of its own (0006-0009, 0010-0019, …, 0060-0069),
    // all additive and independent: one landing later with a lower number still applies
    allowUnorderedMigrations: true,
  });
}

/**
 * Which migrations the database has, compared with this engine's: applied, still to apply, and
 * applied by a newer engine (unknown here). Changes nothing.
 */
export async function schemaStatus(db: Kysely<unknown>): Promise<SchemaStatus> {
  const known = [...MIGRATION_NAMES].sort();
  let executed: string[] = [];
  try {
    const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
    executed = rows.rows.map((r) => r.name);
  } catch {
    // no migration table yet: a new database
  }
  const done = new Set(executed);
  const mine = new Set(known);
  return {
    applied: known.filter((name) => done.has(name)),
    pending: known.filter((name) => !done.has(name)),
    newer: executed.filter((name) => !mine.has(name)),
  };
}

/**
 * Bring the schema up to date, and resolve with the migrations applied now (none when it was up
 * to date). Kysely's migrator takes a lock (an advisory lock on PostgreSQL) and reads what is
 * applied under it, so replicas starting together apply each migration once. A database that a
 * newer engine has migrated further is left as it is when it has every migration this engine
 * knows (migrations only add, so this engine runs on it: a rollout has old and new replicas side
 * by side); when it also lacks some of this engine's, that is an error naming both. Throws
 * `StoreError` naming the migration that failed.
 */
export async function migrate(db: Kysely<unknown>, dialect: StoreDialect): Promise<string[]> {
  const before = await schemaStatus(db);
  // up to date, or migrated further by a newer engine (a rollout): nothing to lock or to load
  if (before.pending.length === 0) return [];
  if (before.newer.length > 0) {
    throw new StoreError(
      `the ${dialect.name} store was migrated by a newer engine (${before.newer.join(', ')}) and lacks migrations of this one (${before.pending.join(', ')}); run the newer engine's pilotage db migrate, or restore a backup taken before the upgrade`,
    );
  }
  const { error, results } = await migrator(db, dialect).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreError(
      `could not migrate the ${dialect.name} store${failed === undefined ? '' : ` (migration ${failed})`}: ${String(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
