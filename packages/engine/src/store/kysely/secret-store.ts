import type { Selectable } from 'kysely';
import type { SecretRecord, SecretScope, SecretStore } from '../types.js';
import type { SecretsTable } from './schema.js';
import type { StoreContext } from './store-context.js';

/** `SecretStore` over Kysely; see the interface for the contract. Values arrive encrypted. */
export class KyselySecretStore implements SecretStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  put(record: Omit<SecretRecord, 'createdAt'>): Promise<boolean> {
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('secrets')
          .select('name')
          .where('scope', '=', record.scope)
          .where('name', '=', record.name)
          .executeTakeFirst();
        await trx
          .insertInto('secrets')
          .values({
            scope: record.scope,
            name: record.name,
            ciphertext: record.ciphertext,
            created_at: record.updatedAt,
            updated_at: record.updatedAt,
            updated_by: record.updatedBy,
          })
          // a concurrent put of the same secret: the last one wins, as a replace would
          .onConflict((oc) =>
            oc.columns(['scope', 'name']).doUpdateSet({
              ciphertext: record.ciphertext,
              updated_at: record.updatedAt,
              updated_by: record.updatedBy,
            }),
          )
          .execute();
        return existing === undefined;
      }),
    );
  }

  get(scope: SecretScope, name: string): Promise<SecretRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('secrets')
        .selectAll()
        .where('scope', '=', scope)
        .where('name', '=', name)
        .executeTakeFirst();
      return row === undefined ? undefined : secretRecord(row);
    });
  }

  list(scopes?: readonly SecretScope[]): Promise<SecretRecord[]> {
    return this.#ctx.use(async (db) => {
      if (scopes !== undefined && scopes.length === 0) return [];
      let query = db.selectFrom('secrets').selectAll();
      if (scopes !== undefined) query = query.where('scope', 'in', scopes);
      const rows = await query.orderBy('scope').orderBy('name').execute();
      return rows.map(secretRecord);
    });
  }

  delete(scope: SecretScope, name: string): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .deleteFrom('secrets')
        .where('scope', '=', scope)
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }
}

function secretRecord(row: Selectable<SecretsTable>): SecretRecord {
  return {
    scope: row.scope as SecretScope,
    name: row.name,
    ciphertext: row.ciphertext,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}
