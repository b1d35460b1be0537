import { Kysely, PostgresDialect, sql } from 'kysely';
import type { PoolConfig } from 'pg';
import type { TaskRunLimits } from '../../domain/task-run-limits.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import type { StoreSchema } from '../kysely/schema.js';
import { migrate } from '../migrations/migrate.js';
import { redactStoreUrl } from '../parse-store-url.js';
import { StoreError } from '../store-error.js';
import type { Store } from '../types.js';
import { createPgChangeFeed } from './pg-change-feed.js';
import { postgresDialect } from './postgres-dialect.js';
import { preparingReused } from './preparing-reused.js';

/** The URL parameter that turns prepared statements off (`?pilotage_prepare=off`: PgBouncer's transaction mode before 1.21). */
export const PREPARE_PARAMETER = 'pilotage_prepare';

/**
 * `url` without the `pilotage_prepare` parameter, and whether reused statements are prepared on
 * each connection (`preparingReused`; default yes). `off` (or `false`, `0`) sends every statement
 * unnamed: for a connection pooler that does not keep prepared statements across transactions.
 */
export function preparedSetting(url: string): { readonly connectionString: string; readonly prepare: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, prepare: true };
  }
  const value = parsed.searchParams.get(PREPARE_PARAMETER);
  if (value === null) return { connectionString: url, prepare: true };
  parsed.searchParams.delete(PREPARE_PARAMETER);
  const off = ['off', 'false', '0', 'no'].includes(value.toLowerCase());
  return { connectionString: parsed.toString(), prepare: !off };
}

/** OID of `int8`/`bigint`: timestamps, identity columns and `count(*)`. */
const INT8_OID = 20;

/**
 * Open a `pg` pool on `url` (a `postgres://` or `postgresql://` connection string) and migrate
 * the database (unless `options.migrate` is false). bigint columns come back as JS numbers: they hold epoch milliseconds and
 * sequence numbers, far below 2^53. Throws a retryable `StoreError` when the server cannot be
 * reached, after closing the pool.
 */
export async function openPostgres(
  url: string,
  options: { readonly migrate?: boolean; readonly limits?: Partial<TaskRunLimits> } = {},
): Promise<Store & AsyncDisposable> {
  const { default: pg } = await import('pg');
  const { connectionString, prepare } = preparedSetting(url);
  const config: PoolConfig = {
    connectionString,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  };
  const pool = new pg.Pool(config);
  // An idle client whose connection dies emits 'error' on the pool; the pool drops that client
  // and the next query opens a new one. Without a listener the process would crash.
  pool.on('error', () => undefined);
  if (prepare) pool.on('connect', preparingReused);
  const db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
  try {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      throw new StoreError(`could not connect to PostgreSQL at ${redactStoreUrl(url)}: ${String(error)}`, {
        cause: error,
        retryable: true,
      });
    }
    if (options.migrate !== false) await migrate(db as Kysely<unknown>, postgresDialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const changes = createPgChangeFeed({
    db: db as Kysely<unknown>,
    connect: async () => {
      const client = new pg.Client(config);
      // a broken connection emits 'error'; the feed reconnects
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
  });
  return createKyselyStore(db, postgresDialect, changes, options);
}
