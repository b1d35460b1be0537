import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

const MAX_STATEMENTS = 256;

/**
 * better-sqlite3 as Kysely's `SqliteDatabase`, with two changes:
 * - prepared statements are kept (least recently used out first), since Kysely prepares every
 *   query afresh and the same few dozen statements run all the time;
 * - Kysely's `begin` becomes `begin immediate`: the transaction takes the write lock up front,
 *   waiting up to `busy_timeout`, instead of failing with SQLITE_BUSY when a read lock must be
 *   upgraded while another process (a second `pilotage` on the same file) writes.
 */
export function cachedStatements(db: Database): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const text = sql === 'begin' ? 'begin immediate' : sql;
      let stmt = cache.get(text);
      if (stmt === undefined) {
        stmt = db.prepare(text);
        if (cache.size >= MAX_STATEMENTS) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
      } else {
        cache.delete(text);
      }
      cache.set(text, stmt);
      return stmt as unknown as SqliteStatement;
    },
  };
}
