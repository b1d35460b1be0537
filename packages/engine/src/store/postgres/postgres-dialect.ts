import { sql } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * PostgreSQL: jsonb columns (parsed by `pg`), identity columns, jsonb operators, row locks
 * (`FOR UPDATE SKIP LOCKED`, `FOR SHARE`) and the server's clock.
 */
export const postgresDialect: StoreDialect = {
  name: 'postgres',
  jsonType: 'jsonb',
  addIdentity: (table, column) => table.addColumn(column, 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity()),
  clustered: (table) => table,
  encodeJson: (value) => JSON.stringify(value),
  // `pg` parses json/jsonb itself; a JSON string value arrives as a JS string, not as text to parse.
  decodeJson: (raw) => raw,
  jsonWithNumber: (column, key, value) =>
    sql<string>`${sql.ref(column)} || jsonb_build_object(${key}::text, ${value}::bigint)`,
  jsonLacksKey: (column, key) => sql<boolean>`(${sql.ref(column)} -> ${key}::text) is null`,
  jsonKeyCount: (column) => sql<number>`(select count(*) from jsonb_object_keys(${sql.ref(column)}))`,
  jsonText: (column, key) => sql<string>`${sql.ref(column)} ->> ${key}::text`,
  // clock_timestamp(), not now(): now() is the transaction's start, which a long one leaves behind
  nowMs: () => sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`,
  skipLocked: (query) => query.forUpdate().skipLocked(),
  inOnce: (column, subquery) => sql<boolean>`${sql.ref(column)} = any(array(${subquery}))`,
  forUpdate: (query) => query.forUpdate(),
  forShare: (query) => query.forShare(),
};
