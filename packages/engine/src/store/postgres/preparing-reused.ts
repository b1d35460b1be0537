import type { ClientBase, QueryConfig, QueryResult } from 'pg';
import { reusedStatementName } from '../kysely/compiled-statement.js';

/**
 * Let a new pool client keep the store's reused statements prepared (`markReused`): sent under
 * a name, PostgreSQL parses and plans each once per connection, and later calls send only its
 * parameters. Every other statement is sent as Kysely gives it (unnamed).
 */
export function preparingReused(client: ClientBase): void {
  const query = client.query.bind(client) as (config: QueryConfig) => Promise<QueryResult>;
  const named = (text: unknown, values?: unknown): unknown => {
    const name = typeof text === 'string' ? reusedStatementName(text) : undefined;
    if (name === undefined) return (query as (...args: unknown[]) => unknown)(text, values);
    return query({ name, text: text as string, values: values as unknown[] });
  };
  client.query = named as typeof client.query;
}
