import type { WebhookDeliveryRecord, WebhookDeliveryStore } from '../types.js';
import type { StoreContext } from './store-context.js';

/** `WebhookDeliveryStore` over Kysely; see the interface for the contract. */
export class KyselyWebhookDeliveryStore implements WebhookDeliveryStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  claim(workflow: string, provider: string, deliveryId: string, at: number, windowMs: number): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      // One statement: insert, or take over a claim past the window; a live claim is left alone.
      // The primary key decides between concurrent claims (two replicas, two requests).
      const result = await db
        .insertInto('webhook_deliveries')
        .values({ workflow, provider, delivery_id: deliveryId, received_at: at, run_id: null })
        .onConflict((oc) =>
          oc
            .columns(['workflow', 'provider', 'delivery_id'])
            .doUpdateSet({ received_at: at, run_id: null })
            .where('webhook_deliveries.received_at', '<=', at - windowMs),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  setRun(workflow: string, provider: string, deliveryId: string, runId: string): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .updateTable('webhook_deliveries')
        .set({ run_id: runId })
        .where('workflow', '=', workflow)
        .where('provider', '=', provider)
        .where('delivery_id', '=', deliveryId)
        .execute();
    });
  }

  release(workflow: string, provider: string, deliveryId: string): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .deleteFrom('webhook_deliveries')
        .where('workflow', '=', workflow)
        .where('provider', '=', provider)
        .where('delivery_id', '=', deliveryId)
        .execute();
    });
  }

  get(workflow: string, provider: string, deliveryId: string): Promise<WebhookDeliveryRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('workflow', '=', workflow)
        .where('provider', '=', provider)
        .where('delivery_id', '=', deliveryId)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        workflow: row.workflow,
        provider: row.provider,
        deliveryId: row.delivery_id,
        receivedAt: row.received_at,
        runId: row.run_id,
      };
    });
  }

  purge(before: number): Promise<number> {
    return this.#ctx.use(async (db) => {
      const result = await db.deleteFrom('webhook_deliveries').where('received_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
