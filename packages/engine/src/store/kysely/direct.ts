import type { CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/**
 * The store's statements and transactions on the connection directly, where the dialect's driver
 * offers it (SQLite), else through Kysely. The per-task statements are compiled once
 * (compiled-statement.ts), but Kysely's executor still wrapped each in a chain of promises and
 * objects per call, and each transaction in builders, executors and connection providers of its
 * own: together a third of what a workflow step allocated on SQLite.
 */

/** Run compiled `query` in `db` (inside a transaction, directly where the dialect can). */
export function executeCompiled<R>(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  query: CompiledQuery<R>,
): Promise<QueryResult<R>> {
  const direct = dialect.executeInTransaction;
  if (direct === undefined || !db.isTransaction) return db.executeQuery(query);
  try {
    return Promise.resolve(direct(query));
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** `db.transaction().execute(fn)`, directly where the dialect can. */
export function inTransaction<T>(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  fn: (trx: Transaction<StoreSchema>) => Promise<T>,
): Promise<T> {
  return dialect.transaction === undefined ? db.transaction().execute(fn) : dialect.transaction(db, fn);
}
