import { resolve } from 'node:path';
import type { TaskRunLimits } from '../domain/task-run-limits.js';
import { parseStoreUrl } from './parse-store-url.js';
import { StoreError } from './store-error.js';
import type { Store } from './types.js';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /**
   * A file path (relative to the working directory), `:memory:`, `sqlite:PATH`, or a
   * `postgres://…`/`postgresql://…` connection string.
   */
  readonly url: string;
  /**
   * What to do about the schema: `apply` the pending migrations (default; once, whichever
   * replicas start together), only `check` that none is pending (a StoreError naming them and
   * `pilotage db migrate` otherwise), or `none` (`pilotage db status|migrate` look first).
   */
  readonly migrate?: 'apply' | 'check' | 'none';
  /**
   * The per task run caps on statuses and log lines (domain/task-run-limits.ts): those not given
   * are TASK_RUN_LIMIT_DEFAULTS; 0 is no cap. Every writer through this store enforces them.
   */
  readonly limits?: Partial<TaskRunLimits>;
}

/**
 * Open the store at `options.url` and bring its schema up to date (see `migrate`). SQLite files and their folder
 * are created when missing. Resolves once the store is usable; the caller owns it and must
 * `close()` it. Rejects with `ValidationError` for a URL it cannot read and `StoreError` when
 * the database cannot be opened or migrated.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const location = parseStoreUrl(options.url);
  const opened = {
    migrate: options.migrate === 'apply' || options.migrate === undefined,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  };
  // each dialect's modules load only when its store is opened
  let store: Store;
  if (location.kind === 'postgres') {
    const { openPostgres } = await import('./postgres/open-postgres.js');
    store = await openPostgres(location.url, opened);
  } else {
    const { openSqlite } = await import('./sqlite/open-sqlite.js');
    store = await openSqlite(location.path === ':memory:' ? location.path : resolve(location.path), opened);
  }
  if (options.migrate === 'check') {
    try {
      const { pending } = await store.schema.status();
      if (pending.length > 0) {
        throw new StoreError(
          `the ${store.dialect} store lacks migrations ${pending.join(', ')}; run pilotage db migrate first (or let the engine apply them: PILOTAGE_AUTO_MIGRATE=true)`,
        );
      }
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
