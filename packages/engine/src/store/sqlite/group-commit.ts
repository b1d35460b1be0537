import type { Database, Statement } from 'better-sqlite3';
import {
  Transaction,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type ConnectionProvider,
} from 'kysely';

/** What the driver needs of the statement cache (statement-cache.ts). */
export interface PreparedStatements {
  prepare(sql: string): Statement;
  close(): void;
}

/** What is told of the driver's commits (the WAL checkpointer), and closed with it. */
export interface CommitWatcher {
  committed(): void;
  close(): Promise<void>;
}

/** The savepoint each Kysely transaction runs in, inside the group's transaction. */
const TRANSACTION = 'pilotage_grouped';

/** A first-come, first-served lock: who waits longest goes next. Each turn has a number, in order. */
class FifoLock {
  #held = false;
  readonly #waiting: (() => void)[] = [];
  /** the number the next `lock()` call gets */
  next = 0;

  /** Resolves with this turn's number once it is this caller's turn. */
  lock(): Promise<number> {
    const turn = this.next++;
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(turn);
    }
    return new Promise((resolve) => this.#waiting.push(() => resolve(turn)));
  }

  unlock(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}

/**
 * What the drivers of one database file in this process share: whose turn it is, and which of
 * them holds the file's write lock for its open group. Two connections to one file in one process
 * (two stores, as some tests and tools open) must not wait for each other's lock inside SQLite:
 * better-sqlite3 waits there synchronously, so the holder's commit (a later turn of this same
 * event loop) could never come. They take turns here instead, and a driver whose turn comes while
 * another's group is open commits that group first.
 */
interface SharedFile {
  readonly lock: FifoLock;
  grouped: GroupCommitDriver | undefined;
  users: number;
}

const files = new Map<string, SharedFile>();

/** The shared state of the file `db` opened (an in-memory database is its connection's own). */
function sharedFile(db: Database): { readonly key: string | undefined; readonly file: SharedFile } {
  const key = db.memory ? undefined : db.name;
  const file = (key === undefined ? undefined : files.get(key)) ?? {
    lock: new FifoLock(),
    grouped: undefined,
    users: 0,
  };
  file.users += 1;
  if (key !== undefined) files.set(key, file);
  return { key, file };
}

/** The transaction that the writes of one turn of the event loop share, until its commit. */
interface Group {
  readonly committed: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const committed = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // every writer of the group awaits it; none may be left to crash the process
  committed.catch(() => undefined);
  return { committed, resolve, reject };
}

/**
 * better-sqlite3 behind Kysely, with group commit: the writes made in one turn of the event loop
 * (each Kysely transaction but the group's first in a savepoint of its own, each write outside
 * one as it is) share one SQLite transaction, committed once at the end of that turn
 * (`setImmediate`), or sooner when asked (`commitSoon`). A write's promise
 * (its transaction's, or its statement's) resolves only after that commit, so what a caller acts
 * on is in the file, as with a commit of its own; a transaction that fails rolls back to its
 * savepoint and takes nothing else with it; a commit that fails fails every write of the group.
 *
 * Why: each SQLite commit writes every page it touched to the WAL. A step of a workflow is two
 * writes (the next task run's creation, the last one's end) touching the same pages, and a
 * parallel stage ends many task runs at once: one commit for all of them writes each shared page
 * once (bench/README.md, "Session 9").
 *
 * One connection, as Kysely's own SQLite driver: queries and transactions of this process take
 * turns (a FIFO lock); never nest a store call inside a transaction, it would wait for itself.
 * Grouping starts with `group()`, after migrations (which run as Kysely's driver runs them).
 * Kysely's savepoints (`trx.savepoint`) are not offered: the store does not use them.
 */
export class GroupCommitDriver implements Driver {
  readonly #db: Database;
  readonly #statements: PreparedStatements;
  readonly #file: SharedFile;
  readonly #fileKey: string | undefined;
  readonly #connection: DatabaseConnection;
  #grouping = false;
  #group: Group | undefined;
  /** the lock holder is inside a Kysely transaction (its savepoint, or its own begin) */
  #inTransaction = false;
  /**
   * The holder's transaction opened the group: nothing else is in it, so it needs no savepoint
   * (inside one SQLite copies each page it first changes to a sub-journal: +40% per statement on
   * the callback path, measured) and its rollback is the group's.
   */
  #alone = false;
  /** what the lock holder's caller must wait for once it lets go: the commit of its writes */
  #commitOfHolder: Promise<void> | undefined;
  #closed = false;
  /**
   * Set by `commitSoon`: the first turn that may be its caller's. The release of a turn from
   * there on that wrote commits the group at once.
   */
  #hurryFrom: number | undefined;
  /** the number of the lock holder's turn */
  #holderTurn = -1;
  readonly #watcher: CommitWatcher | undefined;
  /** per Kysely instance: the transaction object of `transaction` */
  readonly #transactions = new WeakMap<object, object>();

  /** `watcher`: told after each commit, and closed before the connection (wal-checkpointer.ts). */
  constructor(db: Database, statements: PreparedStatements, watcher?: CommitWatcher) {
    this.#db = db;
    this.#statements = statements;
    this.#watcher = watcher;
    const { key, file } = sharedFile(db);
    this.#fileKey = key;
    this.#file = file;
    this.#connection = {
      executeQuery: <R>(query: CompiledQuery) => Promise.resolve(this.#execute<R>(query)),
      streamQuery: <R>(query: CompiledQuery) => this.#stream<R>(query),
    };
  }

  /** From now on, writes share a transaction per turn of the event loop. */
  group(): void {
    this.#grouping = true;
  }

  /**
   * Commit the group as soon as the next write asked for (the caller's: call this just before
   * it) and the writes in line before it have had their turn, not at the end of the loop's turn:
   * for a write something waits on, such as a task run's creation before its component starts,
   * or a batch of TASK_STATUS reports whose callers wait for their answer.
   */
  commitSoon(): void {
    this.#hurryFrom ??= this.#file.lock.next;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#holderTurn = await this.#file.lock.lock();
    this.#takeFile();
    return this.#connection;
  }

  async beginTransaction(): Promise<void> {
    if (this.#grouping) {
      this.#alone = this.#joinGroup();
      if (!this.#alone) this.#run(`savepoint ${TRANSACTION}`);
    } else {
      // the write lock up front, waiting up to busy_timeout, rather than SQLITE_BUSY on the upgrade
      this.#run('begin immediate');
    }
    this.#inTransaction = true;
  }

  async commitTransaction(): Promise<void> {
    this.#inTransaction = false;
    if (!this.#grouping) {
      this.#commit();
      return;
    }
    if (this.#alone && this.#hurriedHolder()) {
      // asked to commit soon, and the group holds this transaction only: commit it now, as
      // without grouping (no turn of the lock more, no promise more before its caller goes on)
      this.#hurryFrom = undefined;
      const group = this.#group;
      this.#commitGroup();
      // settled by now: throws when the commit failed
      await group?.committed;
      return;
    }
    if (!this.#alone) this.#run(`release ${TRANSACTION}`);
    this.#commitOfHolder = this.#group?.committed;
  }

  /** Whether the lock holder's turn is one `commitSoon` asked for. */
  #hurriedHolder(): boolean {
    return this.#hurryFrom !== undefined && this.#holderTurn >= this.#hurryFrom;
  }

  async rollbackTransaction(): Promise<void> {
    this.#inTransaction = false;
    if (!this.#grouping) {
      if (this.#db.inTransaction) this.#run('rollback');
      return;
    }
    if (!this.#db.inTransaction) {
      this.#groupLost(new Error('SQLite rolled the transaction back'));
    } else if (this.#alone) {
      // the group held this transaction only: it ends with it, and nobody waits for its commit
      this.#run('rollback');
      this.#groupLost(new Error('rolled back'));
    } else {
      this.#run(`rollback to ${TRANSACTION}`);
      this.#run(`release ${TRANSACTION}`);
    }
  }

  async releaseConnection(): Promise<void> {
    const commit = this.#commitOfHolder;
    this.#commitOfHolder = undefined;
    this.#file.lock.unlock();
    if (this.#hurriedHolder() && commit !== undefined && this.#group !== undefined) {
      this.#hurryFrom = undefined;
      // in line after the turns already waiting: they join the group first
      void this.#flush(this.#group);
    }
    // the next in line goes on (and joins the group) while this caller waits for the commit
    if (commit !== undefined) await commit;
  }

  async destroy(): Promise<void> {
    await this.#watcher?.close();
    await this.#file.lock.lock();
    try {
      this.#commitGroup();
    } finally {
      this.#closed = true;
      this.#statements.close();
      this.#file.users -= 1;
      if (this.#file.users === 0 && this.#fileKey !== undefined) files.delete(this.#fileKey);
      this.#file.lock.unlock();
    }
  }

  /**
   * `db.transaction().execute(fn)` on this driver, without Kysely's per-transaction builders,
   * executors and connection providers: the same driver calls in the same order (take the lock,
   * begin, `fn`, commit or roll back, let go and wait for the commit), and `fn` gets a
   * transaction object made once per Kysely instance whose statements run on the connection of
   * the transaction under way (`#standingTransaction`). Only one transaction of this driver runs
   * at a time, so that one object serves them all.
   */
  async transaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    const trx = this.#standingTransaction(db);
    await this.acquireConnection();
    let begun = false;
    try {
      await this.beginTransaction();
      begun = true;
      const result = await fn(trx);
      await this.commitTransaction();
      return result;
    } catch (error) {
      // as Kysely does: a commit that failed is rolled back too (SQLite may keep it open)
      if (begun) await this.rollbackTransaction();
      throw error;
    } finally {
      await this.releaseConnection();
    }
  }

  /** The transaction object `transaction` hands its callbacks, for Kysely instance `db` (made once). */
  #standingTransaction<DB>(db: Kysely<DB>): Transaction<DB> {
    let trx = this.#transactions.get(db) as Transaction<DB> | undefined;
    if (trx === undefined) {
      const held: ConnectionProvider = {
        provideConnection: (consumer) => {
          this.#assertInTransaction();
          return consumer(this.#connection);
        },
      };
      const dialect = new GroupCommitDialect(this);
      trx = new Transaction<DB>({
        config: { dialect },
        dialect,
        driver: this,
        executor: db.getExecutor().withConnectionProvider(held),
      });
      this.#transactions.set(db, trx);
    }
    return trx;
  }

  /**
   * Run `query` now, for the transaction under way: only its callback can reach here (the others
   * wait for the lock), so this is what Kysely's transaction executor would do in the end, less
   * its chain of promises and objects per statement (`StoreDialect.executeInTransaction`).
   */
  executeInTransaction<R>(query: CompiledQuery): QueryResult<R> {
    this.#assertInTransaction();
    return this.#execute<R>(query);
  }

  /** Refuse a statement meant for a transaction when none is under way (its callback ended). */
  #assertInTransaction(): void {
    if (!this.#inTransaction) throw new Error('a statement for a transaction ran outside any transaction');
  }

  /** This driver's turn on the file: another connection's open group is committed first. */
  #takeFile(): void {
    const other = this.#file.grouped;
    if (other !== undefined && other !== this) other.#commitGroup();
  }

  #execute<R>(query: CompiledQuery): QueryResult<R> {
    const stmt = this.#statements.prepare(query.sql);
    // a write outside a transaction joins the group too, and its caller waits for its commit
    if (this.#grouping && !this.#inTransaction && !stmt.readonly) {
      this.#joinGroup();
      this.#commitOfHolder = this.#group?.committed;
    }
    try {
      if (stmt.reader) return { rows: stmt.all(query.parameters) as R[] };
      const { changes, lastInsertRowid } = stmt.run(query.parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } catch (error) {
      // a statement that fails is undone alone, unless SQLite had to end the whole transaction
      if (this.#group !== undefined && !this.#db.inTransaction) this.#groupLost(error);
      throw error;
    }
  }

  async *#stream<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.#statements.prepare(query.sql);
    if (!stmt.reader) throw new Error('the SQLite driver streams only queries that return rows');
    for (const row of stmt.iterate(query.parameters)) yield { rows: [row as R] };
  }

  #run(text: string): void {
    this.#statements.prepare(text).run();
  }

  #commit(): void {
    this.#run('commit');
    this.#watcher?.committed();
  }

  /**
   * Open the turn's transaction if it is not open yet (then true); its commit comes once the
   * turn's writes are in.
   */
  #joinGroup(): boolean {
    if (this.#group !== undefined) return false;
    this.#run('begin immediate');
    const group = newGroup();
    this.#group = group;
    this.#file.grouped = this;
    setImmediate(() => void this.#flush(group));
    return true;
  }

  /** Commit `group` once the writers already in line have had their turn (unless it is gone: committed soon, or lost). */
  async #flush(group: Group): Promise<void> {
    if (this.#group !== group) return; // committed already (soon), or lost
    await this.#file.lock.lock();
    try {
      if (!this.#closed && this.#group === group) this.#commitGroup();
    } finally {
      this.#file.lock.unlock();
    }
  }

  #commitGroup(): void {
    const group = this.#detachGroup();
    if (group === undefined) return;
    try {
      this.#commit();
      group.resolve();
    } catch (error) {
      try {
        if (this.#db.inTransaction) this.#run('rollback');
      } catch {
        // the commit's error is the one to report; SQLite ends the transaction on close anyway
      }
      group.reject(error);
    }
  }

  /** SQLite ended the group's transaction on an error: none of its writes are in the file. */
  #groupLost(error: unknown): void {
    this.#detachGroup()?.reject(error);
  }

  /** The open group, which is this driver's and the file's no more. */
  #detachGroup(): Group | undefined {
    const group = this.#group;
    this.#group = undefined;
    if (this.#file.grouped === this) this.#file.grouped = undefined;
    return group;
  }
}

/** Kysely's SQLite dialect on a `GroupCommitDriver`. */
export class GroupCommitDialect implements Dialect {
  constructor(private readonly driver: GroupCommitDriver) {}

  createDriver(): Driver {
    return this.driver;
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
