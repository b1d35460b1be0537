import { resolve } from 'node:path';
import { openPostgres } from './postgres/open-postgres.js';
import { parseStoreUrl } from './parse-store-url.js';
import { openSqlite } from './sqlite/open-sqlite.js';
import type { Store } from './types.js';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /**
   * A file path (relative to the working directory), `:memory:`, `sqlite:PATH`, or a
   * `postgres://…`/`postgresql://…` connection string.
   */
  readonly url: string;
}

/**
 * Open the store at `options.url` and bring its schema up to date. SQLite files and their folder
 * are created when missing. Resolves once the store is usable; the caller owns it and must
 * `close()` it. Rejects with `ValidationError` for a URL it cannot read and `StoreError` when
 * the database cannot be opened or migrated.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const location = parseStoreUrl(options.url);
  if (location.kind === 'postgres') return openPostgres(location.url);
  return openSqlite(location.path === ':memory:' ? location.path : resolve(location.path));
}
