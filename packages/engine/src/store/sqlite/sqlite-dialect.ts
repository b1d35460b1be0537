import { sql, type CompiledQuery, type Kysely, type QueryResult, type Transaction } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/** A JSON path naming one object key, quoted so keys like `task-start` work. */
function keyPath(key: string): string {
  return `$.${JSON.stringify(key)}`;
}

/** SQLite: JSON as text, `integer primary key autoincrement`, JSON1 functions. */
export const sqliteDialect: StoreDialect = {
  name: 'sqlite',
  jsonType: 'text',
  addIdentity: (table, column) => table.addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement()),
  clustered: (table) => table.modifyEnd(sql`without rowid`),
  encodeJson: (value) => JSON.stringify(value),
  decodeJson: (raw) => (typeof raw === 'string' ? JSON.parse(raw) : raw),
  jsonWithNumber: (column, key, value) => sql<string>`json_set(${sql.ref(column)}, ${keyPath(key)}, ${value})`,
  jsonLacksKey: (column, key) => sql<boolean>`json_type(${sql.ref(column)}, ${keyPath(key)}) is null`,
  jsonKeyCount: (column) => sql<number>`(select count(*) from json_each(${sql.ref(column)}))`,
  jsonText: (column, key) => sql<string>`json_extract(${sql.ref(column)}, ${keyPath(key)})`,
  nowMs: () => sql<number>`cast(unixepoch('subsec') * 1000 as integer)`,
  // one writer at a time: a transaction's reads cannot be overtaken, so no row locks are needed
  skipLocked: (query) => query,
  inOnce: (column, subquery) => sql<boolean>`${sql.ref(column)} in (${subquery})`,
  forUpdate: (query) => query,
  forShare: (query) => query,
};

/** What `sqliteDialectOn` needs of the store's driver (group-commit.ts). */
interface TransactionConnection {
  executeInTransaction<R>(query: CompiledQuery<R>): QueryResult<R>;
  transaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
}

/**
 * The SQLite dialect of one store: its transactions and their compiled statements run directly on
 * its driver (`StoreDialect.transaction`, `StoreDialect.executeInTransaction`). One per store,
 * since each store has its connection (statements compiled once are kept per dialect object, so
 * per store).
 */
export function sqliteDialectOn(driver: TransactionConnection): StoreDialect {
  return {
    ...sqliteDialect,
    executeInTransaction: (query) => driver.executeInTransaction(query),
    transaction: (db, fn) => driver.transaction(db, fn),
  };
}
