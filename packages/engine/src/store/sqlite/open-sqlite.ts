import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely } from 'kysely';
import type { TaskRunLimits } from '../../domain/task-run-limits.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import { createLocalChangeFeed } from '../kysely/local-change-feed.js';
import type { StoreSchema } from '../kysely/schema.js';
import { migrate } from '../migrations/migrate.js';
import { StoreError } from '../store-error.js';
import type { Store } from '../types.js';
import { GroupCommitDialect, GroupCommitDriver } from './group-commit.js';
import { applyFreshSchema } from './fresh-schema.js';
import { sqliteDialect, sqliteDialectOn } from './sqlite-dialect.js';
import { createWalCheckpointer } from './wal-checkpointer.js';
import { cachedStatements } from './statement-cache.js';

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;
/** WAL pages (4 KiB each) after which a commit checkpoints: ~40 MiB (SQLite's default is 1000). */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** Size the WAL file is truncated to after a checkpoint, bytes. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** SQLite's own page cache bound (2 MiB, as a negative KiB count); better-sqlite3 builds SQLite with 16 MiB. */
export const PAGE_CACHE_KIB = 2000;

/** What `configureConnection` needs of a better-sqlite3 connection. */
interface Pragmas {
  pragma(source: string): unknown;
}

/** The settings of every connection `openSqlite` opens to `path`. */
export function configureConnection(raw: Pragmas, path: string): void {
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  // Checkpoint (copy the WAL into the database and fsync) every ~40 MiB of WAL instead of every
  // ~4 MiB: a tenth of the fsyncs, which cost a third of each small commit's time at the
  // default (bench/README.md, "The server"). The WAL file is cut back to 64 MiB after each.
  // `openSqlite` copies a file's WAL back on a thread before that (wal-checkpointer.ts): these
  // are what remains when that thread cannot keep up or failed.
  raw.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  raw.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  raw.pragma('foreign_keys = ON');
  raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // a transaction grouped behind another runs in a savepoint (group-commit.ts), whose sub-journal
  // of the pages it changes is a temporary file by default: in memory, no write per page
  raw.pragma('temp_store = MEMORY');
  // The page cache filled toward better-sqlite3's 16 MiB as the file grew, and a server's RSS never
  // came back after runs ended (issue 15, target 6b: +9.6 to +25 MB; with 2 MiB +5 to +6 MB, the
  // callback path within noise: bench/README.md). Pages read again come from the OS's file cache.
  // Not for an in-memory database, whose pages live in that cache.
  if (path !== ':memory:') raw.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}

/**
 * Open (creating it and its folder if needed) and migrate (unless `options.migrate` is false)
 * the SQLite database at `path`,
 * or an in-memory one for `:memory:`.
 *
 * WAL with `synchronous=NORMAL`: a resolved write survives the process crashing; a power loss
 * may drop the last transactions but never corrupts the file. One connection, so Kysely
 * serialises every query and transaction of this process (never nest a store call inside a
 * transaction: it would wait for itself).
 */
export async function openSqlite(
  path: string,
  options: { readonly migrate?: boolean; readonly limits?: Partial<TaskRunLimits> } = {},
): Promise<Store & AsyncDisposable> {
  const { default: Database } = await import('better-sqlite3');
  let raw;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    raw = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    configureConnection(raw, path);
  } catch (error) {
    raw?.close();
    throw new StoreError(`could not open the SQLite database ${path}: ${String(error)}`, {
      cause: error,
    });
  }
  // a file's WAL is copied back on a thread of its own, not in the middle of a commit
  const checkpointer =
    path === ':memory:'
      ? undefined
      : createWalCheckpointer({
          path,
          busyTimeoutMs: BUSY_TIMEOUT_MS,
          warn: (message) => process.emitWarning(message),
        });
  const driver = new GroupCommitDriver(raw, cachedStatements(raw), checkpointer);
  const db = new Kysely<StoreSchema>({ dialect: new GroupCommitDialect(driver) });
  try {
    if (options.migrate !== false) {
      // an empty database gets the schema at once; one made by another engine, or a process
      // that just created it, goes through the migrations, which find what is left to apply
      await applyFreshSchema(raw, async () => (await import('./fresh-schema.generated.js')).FRESH_SCHEMA);
      await migrate(db as Kysely<unknown>, sqliteDialect);
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  driver.group();
  return createKyselyStore(db, sqliteDialectOn(driver), createLocalChangeFeed(), {
    ...options,
    commitSoon: () => driver.commitSoon(),
  });
}
