import type { CreateTableBuilder, RawBuilder } from 'kysely';

/**
 * The few places where SQLite and PostgreSQL differ, so every query can stay in one shared
 * Kysely implementation. Implemented by `sqlite/sqlite-dialect.ts` and
 * `postgres/postgres-dialect.ts`.
 */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  /** Column type of JSON columns: `text` on SQLite, `jsonb` on PostgreSQL. */
  readonly jsonType: 'text' | 'jsonb';
  /**
   * Add an auto-incrementing integer primary key `column` whose values are never reused
   * (outbox order depends on it).
   */
  addIdentity<T extends string>(table: CreateTableBuilder<T>, column: string): CreateTableBuilder<T, string>;
  /** Store a table clustered on its primary key where the dialect can (SQLite `WITHOUT ROWID`). */
  clustered<T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C>;
  /** Encode a JSON value for a JSON column. */
  encodeJson(value: unknown): string;
  /** Decode what the driver returned for a JSON column. */
  decodeJson(raw: unknown): unknown;
  /** SQL: the JSON object in `column` with `key` set to the number `value`. */
  jsonWithNumber(column: string, key: string, value: number): RawBuilder<string>;
  /** SQL: true when the JSON object in `column` has no `key`. */
  jsonLacksKey(column: string, key: string): RawBuilder<boolean>;
  /** SQL: the text of `key` in the JSON object in `column` (SQL NULL when it has no such key). */
  jsonText(column: string, key: string): RawBuilder<string>;
}
