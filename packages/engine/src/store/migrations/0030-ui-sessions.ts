import type { Kysely, Migration } from 'kysely';

/**
 * Browser sessions of the web UI: an API token exchanged for a session cookie. Only the sha256
 * of the session id is stored; the token is referenced by its hash (the `api_tokens` key a
 * request would present), so revoking the token ends its sessions too.
 */
export function uiSessionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('ui_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ui_sessions_expires_at_idx').on('ui_sessions').column('expires_at').execute();
    },
  };
}
