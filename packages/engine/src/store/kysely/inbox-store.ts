import { INBOX_RECLAIM_AFTER_MS, type InboxRecord, type InboxStore } from '../types.js';
import type { StoreContext } from './store-context.js';

/**
 * `InboxStore` over Kysely (`cdevents_inbox`). `recordIfNew` is one upsert whose update (a
 * reclaim) only applies to a row never processed and recorded long enough ago
 * (`INSERT … ON CONFLICT (source, id) DO UPDATE … WHERE`); the primary key makes it atomic across
 * connections and replicas, and of two concurrent reclaims only the first matches.
 */
export class KyselyInboxStore implements InboxStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  recordIfNew(source: string, id: string, type: string, at: number): Promise<boolean> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      const result = await db
        .insertInto('cdevents_inbox')
        .values({ source, id, type, received_at: at, processed_at: null, run_ids: dialect.encodeJson([]) })
        .onConflict((oc) =>
          oc
            .columns(['source', 'id'])
            .doUpdateSet({ received_at: at })
            .where('cdevents_inbox.processed_at', 'is', null)
            .where('cdevents_inbox.received_at', '<=', at - INBOX_RECLAIM_AFTER_MS),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  markProcessed(source: string, id: string, runIds: readonly string[], at: number): Promise<void> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      await db
        .updateTable('cdevents_inbox')
        .set({ processed_at: at, run_ids: dialect.encodeJson(runIds) })
        .where('source', '=', source)
        .where('id', '=', id)
        .execute();
    });
  }

  forget(source: string, id: string): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .deleteFrom('cdevents_inbox')
        .where('source', '=', source)
        .where('id', '=', id)
        .where('processed_at', 'is', null)
        .execute();
    });
  }

  get(source: string, id: string): Promise<InboxRecord | undefined> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('cdevents_inbox')
        .selectAll()
        .where('source', '=', source)
        .where('id', '=', id)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        source: row.source,
        id: row.id,
        type: row.type,
        receivedAt: row.received_at,
        processedAt: row.processed_at,
        runIds: dialect.decodeJson(row.run_ids) as string[],
      };
    });
  }
}
