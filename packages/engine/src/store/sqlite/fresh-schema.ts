import type { Database } from 'better-sqlite3';
import { MIGRATION_NAMES } from '../migrations/migration-provider.js';
import { MIGRATION_TABLE } from '../migrations/migrate.js';

/** A schema as the migrations leave a new SQLite database: its statements, and the migrations it stands for. */
export interface SchemaSnapshot {
  /** the names in the migration table, sorted */
  readonly migrations: readonly string[];
  /** what recreates everything else: tables, indexes, views and triggers in that order, then rows */
  readonly statements: readonly string[];
}

/** Schema objects recreated in this order (an index or a trigger needs its table). */
const KIND_ORDER = ['table', 'index', 'view', 'trigger'];

/** A value as an SQL literal. */
function literal(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * The snapshot of the schema of `db` (scripts/generate-sqlite-schema.mjs writes the one of a
 * database the migrations just made): every object SQLite keeps the SQL of, and the rows of
 * every table but the migration table (only rows a migration seeds: the migrator's lock row).
 * SQLite's own objects (`sqlite_sequence`, the indexes behind UNIQUE and PRIMARY KEY) are left
 * out: it creates them again with their tables.
 */
export function schemaSnapshot(db: Database): SchemaSnapshot {
  const objects = db
    .prepare(
      `select type, name, sql from sqlite_master where sql is not null and name not like 'sqlite\\_%' escape '\\' order by rowid`,
    )
    .all() as { type: string; name: string; sql: string }[];
  objects.sort((a, b) => KIND_ORDER.indexOf(a.type) - KIND_ORDER.indexOf(b.type));
  const rows: string[] = [];
  for (const { name } of objects.filter((o) => o.type === 'table' && o.name !== MIGRATION_TABLE)) {
    for (const row of db.prepare(`select * from "${name}"`).all() as Record<string, unknown>[]) {
      const columns = Object.keys(row);
      rows.push(
        `insert into "${name}" (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map((c) => literal(row[c])).join(', ')})`,
      );
    }
  }
  const migrations = (
    db.prepare(`select name from "${MIGRATION_TABLE}" order by name`).all() as { name: string }[]
  ).map((r) => r.name);
  return { migrations, statements: [...objects.map((o) => o.sql), ...rows] };
}

/**
 * Give an empty database (a new file, `:memory:`) the schema in one transaction from the snapshot
 * `load` gives (`FRESH_SCHEMA`, generated from the migrations) rather than running each migration: ~30 ms less
 * for a store that starts empty every time (`--db :memory:`) and for the first start
 * (bench/README.md, "Session 11"). The migration table (created by the snapshot, as the migrator
 * creates it) records every migration, applied now. Returns false, changing nothing, when the
 * database is not empty (another process may have just created it: the check and the writes
 * share one write transaction) or when the snapshot is not this engine's (a test keeps them the
 * same). The migrations (`migrate`) then run as always.
 */
export async function applyFreshSchema(db: Database, load: () => Promise<SchemaSnapshot>): Promise<boolean> {
  const objects = db.prepare('select count(*) as n from sqlite_master');
  // read first without the write lock: a store in use by another process is never made to wait
  // (and the snapshot's module is loaded only for an empty one)
  if ((objects.get() as { n: number }).n > 0) return false;
  const snapshot = await load();
  const known = [...MIGRATION_NAMES].sort();
  if (snapshot.migrations.length !== known.length || snapshot.migrations.some((name, i) => name !== known[i])) {
    return false;
  }
  db.exec('begin immediate');
  try {
    if ((objects.get() as { n: number }).n > 0) {
      db.exec('rollback');
      return false;
    }
    for (const statement of snapshot.statements) db.exec(statement);
    const record = db.prepare(`insert into "${MIGRATION_TABLE}" ("name", "timestamp") values (?, ?)`);
    const at = new Date().toISOString();
    for (const name of snapshot.migrations) record.run(name, at);
    db.exec('commit');
    return true;
  } catch (error) {
    if (db.inTransaction) db.exec('rollback');
    throw error;
  }
}
