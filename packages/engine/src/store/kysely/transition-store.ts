import { sql, type ExpressionBuilder } from 'kysely';
import type {
  LatestTransitions,
  TransitionPage,
  TransitionPageQuery,
  TransitionRecord,
  TransitionStore,
} from '../types.js';
import type { StoreSchema } from './schema.js';
import type { StoreContext } from './store-context.js';

type TransitionRow = {
  entity_id: string;
  from_state: string | null;
  to_state: string;
  at: number;
  reason: string | null;
};

/** `TransitionStore` over Kysely: rows in insertion order (`id`), which is the order of the changes. */
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
        .where(ofRun(runId))
        .orderBy('id')
        .execute();
      return rows.map(transitionOf);
    });
  }

  latestForRun(runId: string, count: number): Promise<LatestTransitions> {
    return this.#ctx.use(async (db) => {
      // each entity's rows numbered from its latest, and counted, by window functions
      const ranked = db
        .selectFrom('transitions')
        .select(['id', 'entity_id', 'from_state', 'to_state', 'at', 'reason'])
        .select(
          sql<number>`row_number() over (partition by ${sql.ref('entity_id')} order by ${sql.ref('id')} desc)`.as(
            'rank',
          ),
        )
        .select(sql<number>`count(*) over (partition by ${sql.ref('entity_id')})`.as('total'))
        .where(ofRun(runId))
        .as('ranked');
      const rows = await db
        .selectFrom(ranked)
        .selectAll()
        .where('rank', '<=', Math.max(count, 1))
        .orderBy('id')
        .execute();
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(row.entity_id, Number(row.total));
      return { transitions: count <= 0 ? [] : rows.map(transitionOf), counts };
    });
  }

  page(runId: string, query: TransitionPageQuery): Promise<TransitionPage> {
    return this.#ctx.use(async (db) => {
      let select = db
        .selectFrom('transitions')
        .select(['id', 'entity_id', 'from_state', 'to_state', 'at', 'reason'])
        .where(ofRun(runId))
        .where('id', '>', query.after ?? 0);
      if (query.entityId !== undefined) select = select.where('entity_id', '=', query.entityId);
      const rows = await select
        .orderBy('id')
        .limit(query.limit + 1)
        .execute();
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        transitions: page.map(transitionOf),
        next: rows.length > query.limit && last !== undefined ? Number(last.id) : null,
      };
    });
  }
}

/** Rows of run `runId` itself and of its task runs. */
function ofRun(runId: string) {
  return (eb: ExpressionBuilder<StoreSchema, 'transitions'>) =>
    eb.or([
      eb('entity_id', '=', runId),
      eb('entity_id', 'in', eb.selectFrom('task_runs').select('task_runs.id').where('run_id', '=', runId)),
    ]);
}

function transitionOf(r: TransitionRow): TransitionRecord {
  return { entityId: r.entity_id, from: r.from_state, to: r.to_state, at: r.at, reason: r.reason };
}
