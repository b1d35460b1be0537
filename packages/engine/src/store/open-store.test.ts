import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ValidationError } from '../domain/errors.js';
import { openStore } from './open-store.js';
import { configureConnection, PAGE_CACHE_KIB } from './sqlite/open-sqlite.js';
import { StoreError } from './store-error.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pilotage-open-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('sqlite:PATH creates missing folders and the file, with WAL on', async () => {
  const file = join(dir, 'a', 'b', 'p.db');
  const store = await openStore({ url: `sqlite:${file}` });
  try {
    assert.equal(store.dialect, 'sqlite');
    assert.ok(existsSync(file));
    await store.runs.list();
    assert.ok(existsSync(`${file}-wal`), 'journal_mode is WAL');
  } finally {
    await store.close();
  }
});

test("a SQLite file's connection: WAL, foreign keys, and SQLite's own 2 MiB page cache (not better-sqlite3's 16)", async () => {
  const { default: Database } = await import('better-sqlite3');
  const file = join(dir, 'pragmas.db');
  const raw = new Database(file);
  const memory = new Database(':memory:');
  try {
    const before = Number(raw.pragma('cache_size', { simple: true }));
    configureConnection(raw, file);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(raw.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(raw.pragma('cache_size', { simple: true }), -PAGE_CACHE_KIB);
    assert.notEqual(before, -PAGE_CACHE_KIB, "better-sqlite3's build has another default");
    configureConnection(memory, ':memory:');
    assert.equal(memory.pragma('cache_size', { simple: true }), before, 'an in-memory database keeps its cache');
  } finally {
    raw.close();
    memory.close();
  }
});

test(':memory: opens an empty, migrated store', async () => {
  const store = await openStore({ url: ':memory:' });
  try {
    assert.deepEqual(await store.runs.list(), []);
  } finally {
    await store.close();
  }
});

test('an unusable SQLite path is a StoreError naming the path', async () => {
  const blocker = join(dir, 'a-file');
  await writeFile(blocker, 'not a folder');
  await assert.rejects(
    openStore({ url: join(blocker, 'p.db') }),
    (error: unknown) => error instanceof StoreError && error.message.includes(blocker),
  );
});

test('an unreachable PostgreSQL server is a retryable StoreError without the password', async () => {
  await assert.rejects(
    openStore({ url: 'postgres://u:hunter2@127.0.0.1:1/none' }),
    (error: unknown) => error instanceof StoreError && error.retryable && !error.message.includes('hunter2'),
  );
});

test('an unknown scheme is a ValidationError', async () => {
  await assert.rejects(openStore({ url: 'mysql://db/x' }), ValidationError);
});
