import { sql } from 'kysely';
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
