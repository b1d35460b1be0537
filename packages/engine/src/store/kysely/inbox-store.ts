import type { InboxRecord, InboxStore } from '../../events/inbox.js';
import { INBOX_RECLAIM_AFTER_MS } from '../../events/inbox.js';
import type { StoreContext } from './store-context.js';

/**
 * `InboxStore` over Kysely (`cdevents_inbox`). The primary key (`source`, `id`) makes
 * `recordIfNew` atomic across connections and replicas: an insert that meets an existing row
 * does nothing; a reclaim is a compare-and-set on `received_at`, so of two concurrent reclaims
 * only the first matches.
 */
export class KyselyInboxStore implements InboxStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  recordIfNew(source: string, id: string, type: string, at: number): Promise<boolean> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      const inserted = await db
        .insertInto('cdevents_inbox')
        .values({ source, id, type, received_at: at, processed_at: null, run_ids: dialect.encodeJson([]) })
        .onConflict((oc) => oc.columns(['source', 'id']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return true;
      // Seen before: act again only when its handler never finished and has long given up.
      const reclaimed = await db
        .updateTable('cdevents_inbox')
        .set({ received_at: at })
        .where('source', '=', source)
        .where('id', '=', id)
        .where('processed_at', 'is', null)
        .where('received_at', '<=', at - INBOX_RECLAIM_AFTER_MS)
        .executeTakeFirst();
      return Number(reclaimed.numUpdatedRows) > 0;
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
        receivedAt: Number(row.received_at),
        processedAt: row.processed_at === null ? null : Number(row.processed_at),
        runIds: dialect.decodeJson(row.run_ids) as string[],
      };
    });
  }
}
