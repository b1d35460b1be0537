import type { Selectable } from 'kysely';
import type { UiSessionRecord, UiSessionStore } from '../types.js';
import type { UiSessionsTable } from './schema.js';
import type { StoreContext } from './store-context.js';

/** `UiSessionStore` over Kysely; see the interface for the contract. */
export class KyselyUiSessionStore implements UiSessionStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  create(session: UiSessionRecord): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .insertInto('ui_sessions')
        .values({
          id_hash: session.idHash,
          token_hash: session.tokenHash,
          csrf: session.csrf,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
        })
        .execute();
    });
  }

  get(idHash: string): Promise<UiSessionRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('ui_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
      return row === undefined ? undefined : recordOf(row);
    });
  }

  delete(idHash: string): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db.deleteFrom('ui_sessions').where('id_hash', '=', idHash).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  deleteExpired(now: number): Promise<number> {
    return this.#ctx.use(async (db) => {
      const result = await db.deleteFrom('ui_sessions').where('expires_at', '<', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}

function recordOf(row: Selectable<UiSessionsTable>): UiSessionRecord {
  return {
    idHash: row.id_hash,
    tokenHash: row.token_hash,
    csrf: row.csrf,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
