import type { TransitionRecord, TransitionStore } from '../types.js';
import type { StoreContext } from './store-context.js';

/** `TransitionStore` over Kysely: rows in insertion order, which is the order of the changes. */
export class KyselyTransitionStore implements TransitionStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  list(entityId: string): Promise<TransitionRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('transitions')
        .select(['entity_id', 'from_state', 'to_state', 'at', 'reason'])
        .where('entity_id', '=', entityId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        entityId: r.entity_id,
        from: r.from_state,
        to: r.to_state,
        at: r.at,
        reason: r.reason,
      }));
    });
  }
}
