import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { CLI_BUILT, runCli } from './support/cli.js';
import { startPostgresUnlessMissing, type PostgresServer } from './support/postgres.js';
import { startServe, stopServe } from './support/serve-process.js';

/** `pilotage db migrate|status` as processes, on SQLite and on a real PostgreSQL. */

interface StatusJson {
  schema: { applied: string[]; pending: string[]; newer: string[] };
  replicas: { id: string; alive: boolean; runs: number; version: string }[];
  runs?: { held: number; unclaimed: number; orphaned: number };
}

async function status(db: string): Promise<StatusJson> {
  const result = await runCli(['db', 'status', '--db', db, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as StatusJson;
}

describe('pilotage db on SQLite', () => {
  let dir: string;
  before(async () => {
    assert.ok(existsSync(CLI_BUILT), `build first (npm run build): ${CLI_BUILT} is missing`);
    dir = await mkdtemp(join(tmpdir(), 'pilotage-db-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('status on a new file shows every migration pending; migrate applies them once', async () => {
    const db = join(dir, 'p.db');
    const fresh = await status(db);
    assert.deepEqual(fresh.schema.applied, []);
    assert.ok(fresh.schema.pending.includes('0001-initial') && fresh.schema.pending.includes('0060-replicas'));
    const first = await runCli(['db', 'migrate', '--db', db]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 0001-initial, .*0060-replicas.*up to date/);
    const again = await runCli(['db', 'migrate', '--db', db]);
    assert.match(again.stdout, /nothing to apply; \d+ migrations applied; up to date/);
    const after = await status(db);
    assert.deepEqual(after.schema.pending, []);
    assert.deepEqual(after.schema.applied, fresh.schema.pending);
  });
});

describe('pilotage db on PostgreSQL', () => {
  let server: PostgresServer | undefined;
  let dir: string;
  before(async () => {
    // without PostgreSQL (outside CI) each test skips itself
    server = await startPostgresUnlessMissing();
    if (server !== undefined) dir = await mkdtemp(join(tmpdir(), 'pilotage-db-pg-'));
  });
  after(async () => {
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('three migrations started together apply each migration once', async (t) => {
    if (server === undefined) return t.skip('postgres not installed');
    const db = await server.createDatabase('together');
    const results = await Promise.all([1, 2, 3].map(() => runCli(['db', 'migrate', '--db', db, '--json'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const applied = results.map((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied);
    const all = applied.flat();
    assert.equal(new Set(all).size, all.length, `no migration applied twice: ${JSON.stringify(applied)}`);
    const { schema } = await status(db);
    assert.deepEqual(all.sort(), [...schema.applied].sort());
    assert.deepEqual(schema.pending, []);
  });

  test('a database a newer engine migrated further: this engine starts on it and says so', async (t) => {
    if (server === undefined) return t.skip('postgres not installed');
    const db = await server.createDatabase('newer');
    assert.equal((await runCli(['db', 'migrate', '--db', db])).code, 0);
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await client.query(
        `insert into pilotage_migrations (name, timestamp) values ('0999-from-the-future', now()::text)`,
      );
    } finally {
      await client.end();
    }
    const { schema } = await status(db);
    assert.deepEqual(schema.newer, ['0999-from-the-future']);
    const human = await runCli(['db', 'status', '--db', db]);
    assert.match(human.stdout, /newer than this engine: 0999-from-the-future/);
    assert.match((await runCli(['db', 'migrate', '--db', db])).stdout, /nothing to apply/);
    const serve = await startServe(join(dir, 'newer'), { PILOTAGE_DB: db, PILOTAGE_ENCRYPTION_KEY: 'k' });
    await stopServe(serve);
    assert.equal(await serve.exited, 0, serve.output());
  });

  test('with PILOTAGE_AUTO_MIGRATE=false serve refuses a database that lacks migrations; status shows a live replica', async (t) => {
    if (server === undefined) return t.skip('postgres not installed');
    const db = await server.createDatabase('manual');
    await assert.rejects(
      startServe(join(dir, 'manual'), { PILOTAGE_DB: db, PILOTAGE_AUTO_MIGRATE: 'false' }),
      /lacks migrations 0001-initial.*run pilotage db migrate first/s,
    );
    assert.equal((await runCli(['db', 'migrate', '--db', db])).code, 0);
    const serve = await startServe(join(dir, 'manual'), {
      PILOTAGE_DB: db,
      PILOTAGE_AUTO_MIGRATE: 'false',
      PILOTAGE_ENCRYPTION_KEY: 'k',
    });
    try {
      const { replicas, runs } = await status(db);
      assert.equal(replicas.filter((r) => r.alive).length, 1);
      assert.deepEqual(runs, { held: 0, unclaimed: 0, orphaned: 0 });
    } finally {
      await stopServe(serve);
    }
    const { replicas } = await status(db);
    assert.equal(replicas.filter((r) => r.alive).length, 0, 'a stopped replica ends its lease');
  });
});
