import type {
  CompiledQuery,
  CreateTableBuilder,
  Expression,
  Kysely,
  QueryResult,
  RawBuilder,
  SelectQueryBuilder,
  Transaction,
} from 'kysely';

/**
 * The few places where SQLite and PostgreSQL differ, so every query can stay in one shared
 * Kysely implementation, and the two shortcuts past Kysely's executor a store's connection may
 * offer (`transaction`, `executeInTransaction`: SQLite's, one per store). Implemented by
 * `sqlite/sqlite-dialect.ts` and `postgres/postgres-dialect.ts`.
 */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  /** Column type of JSON columns: `text` on SQLite, `jsonb` on PostgreSQL. */
  readonly jsonType: 'text' | 'jsonb';
  /**
   * Add an auto-incrementing integer primary key `column` whose values are never reused
   * (outbox order depends on it).
   */
  addIdentity<T extends string>(table: CreateTableBuilder<T>, column: string): CreateTableBuilder<T, string>;
  /** Store a table clustered on its primary key where the dialect can (SQLite `WITHOUT ROWID`). */
  clustered<T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C>;
  /** Encode a JSON value for a JSON column. */
  encodeJson(value: unknown): string;
  /** Decode what the driver returned for a JSON column. */
  decodeJson(raw: unknown): unknown;
  /** SQL: the JSON object in `column` with `key` set to the number `value`. */
  jsonWithNumber(column: string, key: string, value: number): RawBuilder<string>;
  /** SQL: true when the JSON object in `column` has no `key`. */
  jsonLacksKey(column: string, key: string): RawBuilder<boolean>;
  /** SQL: how many keys the JSON object in `column` has. */
  jsonKeyCount(column: string): RawBuilder<number>;
  /** SQL: the text of `key` in the JSON object in `column` (SQL NULL when it has no such key). */
  jsonText(column: string, key: string): RawBuilder<string>;
  /**
   * SQL: the time now, epoch ms, by the database's clock. Leases are set and compared with it,
   * so the replicas' own clocks never decide who holds what.
   */
  nowMs(): RawBuilder<number>;
  /**
   * `query` locking the rows it selects and skipping rows that another transaction has locked
   * (`FOR UPDATE SKIP LOCKED` on PostgreSQL): replicas claiming work side by side each take
   * different rows without waiting. As is on SQLite, where writers are serialised anyway.
   */
  skipLocked<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /**
   * `query` locking the rows it selects until commit (`FOR UPDATE` on PostgreSQL), waiting for
   * another transaction that holds them: a way to take turns. As is on SQLite.
   */
  forUpdate<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /**
   * `query` taking a share lock on the rows it selects (`FOR SHARE` on PostgreSQL), so that an
   * update of them by another transaction (a replica taking the run over) waits for this one to
   * commit, and this one sees such an update that committed first. As is on SQLite.
   */
  forShare<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /**
   * SQL: `column` is one of the values `subquery` selects, with the subquery run exactly once.
   * On PostgreSQL `column IN (subquery)` may be planned as a join that runs a `LIMIT n FOR
   * UPDATE SKIP LOCKED` subquery again for each row, and so claim more than `n` rows;
   * `column = any(array(subquery))` cannot.
   */
  inOnce(column: string, subquery: Expression<unknown>): RawBuilder<boolean>;
  /**
   * Where the store's connection allows it: run a compiled statement of the transaction under way
   * directly on that connection, synchronously, without Kysely's per-statement executor chain
   * (SQLite: one better-sqlite3 connection serves the transactions in turn, so the one under way
   * holds it). Undefined: statements go through Kysely (`executeCompiled` decides).
   */
  readonly executeInTransaction?: <R>(query: CompiledQuery<R>) => QueryResult<R>;
  /**
   * Where the store's driver offers it: `db.transaction().execute(fn)` without Kysely's
   * per-transaction machinery (SQLite: group-commit.ts). Undefined: through Kysely
   * (`inTransaction` decides).
   */
  readonly transaction?: <DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>) => Promise<T>;
}
