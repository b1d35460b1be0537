import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, sql, type Transaction } from 'kysely';
import { GroupCommitDialect, GroupCommitDriver } from './group-commit.js';
import { cachedStatements } from './statement-cache.js';

interface Schema {
  items: { id: number; parent: number | null };
}

/** A Kysely on a real SQLite file through the grouping driver, counting the commits it sends. */
function open(path: string): { db: Kysely<Schema>; driver: GroupCommitDriver; commits: () => number } {
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('foreign_keys = ON');
  const statements = cachedStatements(raw);
  let commits = 0;
  const driver = new GroupCommitDriver(raw, {
    prepare(text) {
      if (text === 'commit') commits += 1;
      return statements.prepare(text);
    },
    close: () => statements.close(),
  });
  driver.group();
  return { db: new Kysely<Schema>({ dialect: new GroupCommitDialect(driver) }), driver, commits: () => commits };
}

/** What another connection (another process, say) sees in the file. */
function committedIds(path: string): number[] {
  const other = new Database(path, { readonly: true });
  try {
    return (other.prepare('select id from items order by id').all() as { id: number }[]).map((r) => r.id);
  } finally {
    other.close();
  }
}

const insert = (db: Kysely<Schema>, id: number, parent: number | null = null) =>
  db.insertInto('items').values({ id, parent }).execute();

type Store = ReturnType<typeof open>;
type Transact = <T>(store: Store, fn: (trx: Transaction<Schema>) => Promise<T>) => Promise<T>;

/** The two ways the store opens a transaction: through Kysely, and directly on the driver (what the store uses). */
const ways: readonly { readonly name: string; readonly transact: Transact }[] = [
  { name: "Kysely's transaction()", transact: (store, fn) => store.db.transaction().execute(fn) },
  { name: "the driver's transaction()", transact: (store, fn) => store.driver.transaction(store.db, fn) },
];

for (const { name: way, transact } of ways)
  describe(`SQLite group commit, with ${way}`, () => {
    let dir: string;
    let path: string;
    let n = 0;
    let store: ReturnType<typeof open>;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'pilotage-group-commit-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** A fresh file with the table: each case its own. */
    async function fresh(): Promise<void> {
      path = join(dir, `store-${++n}.db`);
      store = open(path);
      // deferred: a dangling parent is found at COMMIT, the way to make a commit fail
      await sql`create table items (id integer primary key, parent integer references items(id) deferrable initially deferred)`.execute(
        store.db,
      );
    }

    it('commits the transactions of one turn together, each resolved once it is in the file', async () => {
      await fresh();
      const before = store.commits();
      const seen: number[][] = [];
      await Promise.all(
        [1, 2, 3].map((id) => transact(store, (trx) => insert(trx, id)).then(() => seen.push(committedIds(path)))),
      );
      assert.equal(store.commits() - before, 1);
      // each caller, when its promise resolved, found every write of the group in the file
      assert.deepEqual(seen, [
        [1, 2, 3],
        [1, 2, 3],
        [1, 2, 3],
      ]);
      await store.db.destroy();
    });

    it('a write outside a transaction joins the group and resolves after its commit', async () => {
      await fresh();
      const before = store.commits();
      await Promise.all([insert(store.db, 1), transact(store, (trx) => insert(trx, 2))]);
      assert.equal(store.commits() - before, 1);
      assert.deepEqual(committedIds(path), [1, 2]);
      await store.db.destroy();
    });

    it('a transaction that fails is undone alone; the others of its group are kept', async () => {
      await fresh();
      const failing = transact(store, async (trx) => {
        await insert(trx, 2);
        throw new Error('changed my mind');
      });
      const kept = transact(store, (trx) => insert(trx, 1));
      // not the group's first: rolled back to its savepoint
      const failingLater = transact(store, async (trx) => {
        await insert(trx, 4);
        throw new Error('me too');
      });
      const later = transact(store, (trx) => insert(trx, 3));
      await assert.rejects(failing, /changed my mind/);
      await assert.rejects(failingLater, /me too/);
      await Promise.all([kept, later]);
      assert.deepEqual(committedIds(path), [1, 3]);
      await store.db.destroy();
    });

    it('a commit that fails fails every write of its group, and the next group goes on', async () => {
      await fresh();
      const dangling = transact(store, (trx) => insert(trx, 1, 99));
      const innocent = insert(store.db, 2);
      await assert.rejects(dangling, /FOREIGN KEY constraint failed/);
      await assert.rejects(innocent, /FOREIGN KEY constraint failed/);
      assert.deepEqual(committedIds(path), []);
      await transact(store, (trx) => insert(trx, 3));
      assert.deepEqual(committedIds(path), [3]);
      await store.db.destroy();
    });

    it('a transaction committed soon and alone fails when its commit fails', async () => {
      await fresh();
      store.driver.commitSoon();
      await assert.rejects(
        transact(store, (trx) => insert(trx, 1, 99)),
        /FOREIGN KEY constraint failed/,
      );
      assert.deepEqual(committedIds(path), []);
      store.driver.commitSoon();
      await transact(store, (trx) => insert(trx, 2));
      assert.deepEqual(committedIds(path), [2]);
      await store.db.destroy();
    });

    it('commitSoon commits before the end of the turn', async () => {
      await fresh();
      for (const soon of [true, false]) {
        let turnEnded = false;
        setImmediate(() => (turnEnded = true));
        // just before the write it is for
        if (soon) store.driver.commitSoon();
        await insert(store.db, soon ? 1 : 2);
        assert.equal(turnEnded, !soon, soon ? 'with commitSoon' : 'without');
      }
      assert.deepEqual(committedIds(path), [1, 2]);
      await store.db.destroy();
    });

    it('reads see the writes of the group before it commits, and wait for nothing', async () => {
      await fresh();
      const written = insert(store.db, 1);
      const read = await store.db.selectFrom('items').select('id').execute();
      assert.deepEqual(read, [{ id: 1 }]);
      assert.deepEqual(committedIds(path), [], 'not committed yet when the read answered');
      await written;
      assert.deepEqual(committedIds(path), [1]);
      await store.db.destroy();
    });

    it('two connections to one file in one process take turns instead of waiting inside SQLite for each other', async () => {
      await fresh();
      const second = open(path);
      const started = Date.now();
      // the first opens its group (the file's write lock); the second's write comes in the same turn
      const first = insert(store.db, 1);
      const other = transact(second, async (trx) => {
        await insert(trx, 2);
        // the first connection's group was committed before this one's turn: its row is visible
        return trx.selectFrom('items').select('id').orderBy('id').execute();
      });
      assert.deepEqual(await other, [{ id: 1 }, { id: 2 }]);
      await first;
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms: waited for SQLite's busy timeout`);
      assert.deepEqual(committedIds(path), [1, 2]);
      await second.db.destroy();
      await store.db.destroy();
    });

    it('destroy commits the group under way', async () => {
      await fresh();
      const written = insert(store.db, 1);
      await store.db.destroy();
      await written;
      assert.deepEqual(committedIds(path), [1]);
    });
  });

describe("SQLite group commit: the driver's own transactions", () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pilotage-group-commit-direct-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs compiled statements in the transaction under way, and none outside one', async () => {
    const path = join(dir, 'direct.db');
    const store = open(path);
    await sql`create table items (id integer primary key, parent integer)`.execute(store.db);
    const statement = CompiledQuery.raw('insert into items (id) values (?)', [1]);
    assert.throws(() => store.driver.executeInTransaction(statement), /outside any transaction/);
    let leaked: Transaction<Schema> | undefined;
    await store.driver.transaction(store.db, async (trx) => {
      leaked = trx;
      store.driver.executeInTransaction(statement);
      // the builder's statements of the same object go to the same transaction
      await insert(trx, 2);
      assert.deepEqual(await trx.selectFrom('items').select('id').orderBy('id').execute(), [{ id: 1 }, { id: 2 }]);
    });
    assert.deepEqual(committedIds(path), [1, 2]);
    // the object a callback got is refused once its transaction ended
    await assert.rejects(insert(leaked!, 3), /outside any transaction/);
    assert.deepEqual(committedIds(path), [1, 2]);
    await store.db.destroy();
  });

  it('hands every callback of one Kysely instance the same object, and waits for the lock like any writer', async () => {
    const path = join(dir, 'turns.db');
    const store = open(path);
    await sql`create table items (id integer primary key, parent integer)`.execute(store.db);
    const order: string[] = [];
    const seen = new Set<unknown>();
    await Promise.all([
      store.driver.transaction(store.db, async (trx) => {
        seen.add(trx);
        order.push('a begins');
        await insert(trx, 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        order.push('a ends');
      }),
      insert(store.db, 2).then(() => order.push('write')),
      store.driver.transaction(store.db, async (trx) => {
        seen.add(trx);
        order.push('b begins');
        await insert(trx, 3);
        order.push('b ends');
      }),
    ]);
    assert.equal(seen.size, 1);
    assert.deepEqual(order.slice(0, 3), ['a begins', 'a ends', 'b begins']);
    assert.deepEqual(committedIds(path), [1, 2, 3]);
    await store.db.destroy();
  });
});
