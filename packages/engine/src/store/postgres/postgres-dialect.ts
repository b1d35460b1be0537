import { sql } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/** PostgreSQL: jsonb columns (parsed by `pg`), identity columns, jsonb operators. */
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
  jsonText: (column, key) => sql<string>`${sql.ref(column)} ->> ${key}::text`,
};
