import type { Selectable } from 'kysely';
import type { Scope as TokenScope } from '../../domain/scopes.js';
import { TOKEN_TOUCH_INTERVAL_MS, type ApiTokenRecord, type ApiTokenStore } from '../types.js';
import type { ApiTokensTable } from './schema.js';
import type { StoreContext } from './store-context.js';

/** `ApiTokenStore` over Kysely; see the interface for the contract. */
export class KyselyApiTokenStore implements ApiTokenStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  create(token: Omit<ApiTokenRecord, 'lastUsedAt' | 'revokedAt'> & { readonly tokenHash: string }): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .insertInto('api_tokens')
        .values({
          id: token.id,
          name: token.name,
          token_hash: token.tokenHash,
          scopes: this.#ctx.dialect.encodeJson(token.scopes),
          created_at: token.createdAt,
          expires_at: token.expiresAt,
          last_used_at: null,
          revoked_at: null,
        })
        .execute();
    });
  }

  getByHash(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row === undefined ? undefined : this.#record(row);
    });
  }

  list(): Promise<ApiTokenRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db.selectFrom('api_tokens').selectAll().orderBy('id', 'desc').execute();
      return rows.map((row) => this.#record(row));
    });
  }

  revoke(id: string, at: number): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .updateTable('api_tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  touch(id: string, at: number): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .updateTable('api_tokens')
        .set({ last_used_at: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at - TOKEN_TOUCH_INTERVAL_MS)]))
        .execute();
    });
  }

  count(): Promise<number> {
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('api_tokens')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  #record(row: Selectable<ApiTokensTable>): ApiTokenRecord {
    return {
      id: row.id,
      name: row.name,
      scopes: this.#ctx.dialect.decodeJson(row.scopes) as TokenScope[],
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    };
  }
}
