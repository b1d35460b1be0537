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
      return rows.map(transitionOf);
    });
  }

  listForRun(runId: string): Promise<TransitionRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('transitions')
        .select(['entity_id', 'from_state', 'to_state', 'at', 'reason'])
        .where((eb) =>
          eb.or([
            eb('entity_id', '=', runId),
            eb('entity_id', 'in', eb.selectFrom('task_runs').select('task_runs.id').where('run_id', '=', runId)),
          ]),
        )
        .orderBy('id')
        .execute();
      return rows.map(transitionOf);
    });
  }
}

function transitionOf(r: {
  entity_id: string;
  from_state: string | null;
  to_state: string;
  at: number;
  reason: string | null;
}): TransitionRecord {
  return { entityId: r.entity_id, from: r.from_state, to: r.to_state, at: r.at, reason: r.reason };
}
