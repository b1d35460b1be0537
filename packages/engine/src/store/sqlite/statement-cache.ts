import type { Database, Statement } from 'better-sqlite3';
import type { PreparedStatements } from './group-commit.js';

const MAX_STATEMENTS = 256;

/**
 * better-sqlite3's prepared statements, kept (least recently used out first): Kysely prepares
 * every query afresh, and the same few dozen statements run all the time.
 */
export function cachedStatements(db: Database): PreparedStatements {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): Statement {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = db.prepare(sql);
        if (cache.size >= MAX_STATEMENTS) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
      } else {
        cache.delete(sql);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}
