import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { GENERATED_FILE, generatedText, migratedSnapshot } from '../../../../../scripts/generate-sqlite-schema.mjs';
import { MIGRATION_NAMES } from '../migrations/migration-provider.js';
import { migrate, schemaStatus } from '../migrations/migrate.js';
import { applyFreshSchema } from './fresh-schema.js';
import { FRESH_SCHEMA } from './fresh-schema.generated.js';
import { openSqlite } from './open-sqlite.js';
import { sqliteDialect } from './sqlite-dialect.js';

/** Everything SQLite keeps about a schema (its own objects too), and every row but the migrations' times. */
function contents(db: Database.Database): unknown {
  const objects = db.prepare('select type, name, tbl_name, sql from sqlite_master order by type, name').all() as {
    type: string;
    name: string;
  }[];
  const rows = Object.fromEntries(
    objects
      .filter((o) => o.type === 'table')
      .map((o) => [o.name, db.prepare(`select * from "${o.name}" order by 1`).all()]),
  );
  for (const row of rows['pilotage_migrations'] as { timestamp?: string }[]) delete row.timestamp;
  return { objects, rows };
}

async function migratedInMemory(): Promise<Database.Database> {
  const raw = new Database(':memory:');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
  await migrate(db, sqliteDialect);
  return raw;
}

test('the generated schema is the one the migrations make (else: node --import tsx scripts/generate-sqlite-schema.mjs)', async () => {
  assert.equal(await readFile(GENERATED_FILE, 'utf8'), generatedText(await migratedSnapshot()));
  assert.deepEqual(FRESH_SCHEMA.migrations, [...MIGRATION_NAMES].sort());
});

test('an empty database given the schema at once equals one migrated step by step', async () => {
  const migrated = await migratedInMemory();
  const fresh = new Database(':memory:');
  assert.equal(await applyFreshSchema(fresh, () => Promise.resolve(FRESH_SCHEMA)), true);
  assert.deepEqual(contents(fresh), contents(migrated));
  assert.deepEqual(fresh.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: fresh }) });
  const status = await schemaStatus(db);
  assert.deepEqual([status.pending, status.newer, status.applied.length], [[], [], MIGRATION_NAMES.length]);
  assert.deepEqual(await migrate(db, sqliteDialect), [], 'nothing left to apply');
  await db.destroy();
  migrated.close();
});

test('a database that is not empty, or a snapshot of other migrations, is left to the migrations', async () => {
  const used = new Database(':memory:');
  used.exec('create table mine (x)');
  assert.equal(await applyFreshSchema(used, () => Promise.resolve(FRESH_SCHEMA)), false);
  assert.deepEqual(
    used.prepare('select name from sqlite_master').all(),
    [{ name: 'mine' }],
    'nothing added to a database in use',
  );
  const empty = new Database(':memory:');
  const stale = { migrations: FRESH_SCHEMA.migrations.slice(1), statements: FRESH_SCHEMA.statements };
  assert.equal(await applyFreshSchema(empty, () => Promise.resolve(stale)), false);
  assert.equal((empty.prepare('select count(*) as n from sqlite_master').get() as { n: number }).n, 0);
  used.close();
  empty.close();
});

test('a store opened on a new file, then again, works; the second opening changes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-fresh-schema-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'pilotage.db');
  const first = await openSqlite(file);
  await first.close();
  const read = (): unknown => {
    const db = new Database(file, { readonly: true });
    try {
      return contents(db);
    } finally {
      db.close();
    }
  };
  const before = read();
  const second = await openSqlite(file);
  assert.deepEqual(await second.runs.list({}), []);
  await second.close();
  assert.deepEqual(read(), before);
});
