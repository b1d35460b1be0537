import { sql, type RawBuilder } from 'kysely';
import { typePatternSql } from '../../events/type-pattern.js';
import type { DeliveryFilter, DeliveryRecord, DeliveryStore, PendingDelivery } from '../types.js';
import { chunked } from './chunked.js';
import { DELIVERY_COLUMNS, toDeliveryRecord } from './delivery-row.js';
import { toOutboxRecord } from './outbox-row.js';
import type { StoreContext } from './store-context.js';

const DEFAULT_LIST_LIMIT = 100;

/**
 * `DeliveryStore` over Kysely. `attempts` counts every attempt, the successful one included.
 * `list` returns the newest events first. `redeliver` ignores `filter.limit`, and a `filter.state`
 * other than `dead` matches nothing; it resets `attempts` and the failure streak so the retry
 * window starts afresh (`lastError` is kept).
 */
export class KyselyDeliveryStore implements DeliveryStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  enqueueNew(sink: string, now: number, afterSeq?: number): Promise<number> {
    return this.#ctx.use(async (db) => {
      // Per-row check rather than "seq > last enqueued": PostgreSQL may commit seq 7 before 6.
      // The casts type the parameters for PostgreSQL, which cannot infer them in a select list.
      const result = await db
        .insertInto('deliveries')
        .columns(['sink', 'event_seq', 'state', 'next_attempt_at'])
        .expression((eb) =>
          eb
            .selectFrom('outbox as o')
            .select([
              sql<string>`cast(${sink} as text)`.as('sink'),
              'o.seq',
              sql<string>`'pending'`.as('state'),
              sql<number>`cast(${now} as bigint)`.as('next_attempt_at'),
            ])
            .$if(afterSeq !== undefined, (q) => q.where('o.seq', '>', afterSeq ?? 0))
            .where(({ not, exists, selectFrom }) =>
              not(
                exists(
                  selectFrom('deliveries as d')
                    .select('d.event_seq')
                    .where('d.sink', '=', sink)
                    .whereRef('d.event_seq', '=', 'o.seq'),
                ),
              ),
            ),
        )
        // two replicas enqueueing at once: the second one skips what the first inserted
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n);
    });
  }

  listPending(sink: string, limit: number): Promise<PendingDelivery[]> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('deliveries as d')
        .innerJoin('outbox as o', 'o.seq', 'd.event_seq')
        .select([...DELIVERY_COLUMNS, 'o.seq', 'o.id', 'o.payload', 'o.created_at', 'o.run_seq'])
        // the delivery state of the run's previous event (unique index on run_id, run_seq)
        .select((eb) =>
          eb
            .selectFrom('outbox as p')
            .leftJoin('deliveries as pd', (join) => join.onRef('pd.event_seq', '=', 'p.seq').on('pd.sink', '=', sink))
            .select(sql<string>`coalesce(pd.state, 'missing')`.as('state'))
            .whereRef('p.run_id', '=', 'o.run_id')
            .where('p.run_seq', '=', sql<number>`o.run_seq - 1`)
            .as('previous'),
        )
        .where('d.sink', '=', sink)
        .where('d.state', '=', 'pending')
        .orderBy('d.event_seq')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        ...toDeliveryRecord(r),
        event: toOutboxRecord(r, dialect),
        previous: (r.previous ?? null) as PendingDelivery['previous'],
      }));
    });
  }

  markDelivered(sink: string, eventSeq: number, at: number): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .updateTable('deliveries')
        .set((eb) => ({ state: 'delivered', delivered_at: at, attempts: eb('attempts', '+', 1) }))
        .where('sink', '=', sink)
        .where('event_seq', '=', eventSeq)
        .where('state', '=', 'pending')
        .execute();
    });
  }

  markFailed(
    sink: string,
    eventSeq: number,
    error: string,
    nextAttemptAt: number,
    dead: boolean,
    failedAt?: number,
  ): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .updateTable('deliveries')
        .set((eb) => ({
          state: dead ? 'dead' : 'pending',
          attempts: eb('attempts', '+', 1),
          last_error: error,
          next_attempt_at: nextAttemptAt,
          ...(failedAt !== undefined && { first_failed_at: eb.fn.coalesce('first_failed_at', eb.val(failedAt)) }),
        }))
        .where('sink', '=', sink)
        .where('event_seq', '=', eventSeq)
        .where('state', '=', 'pending')
        .execute();
    });
  }

  markHeldBack(sink: string, eventSeq: number, reason: string): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .updateTable('deliveries')
        .set({ state: 'dead', last_error: reason })
        .where('sink', '=', sink)
        .where('event_seq', '=', eventSeq)
        .where('state', '=', 'pending')
        .execute();
    });
  }

  list(filter: DeliveryFilter = {}): Promise<DeliveryRecord[]> {
    return this.#ctx.use(async (db) => {
      let query = db
        .selectFrom('deliveries as d')
        .innerJoin('outbox as o', 'o.seq', 'd.event_seq')
        .select(DELIVERY_COLUMNS);
      if (filter.sink !== undefined) query = query.where('d.sink', '=', filter.sink);
      if (filter.state !== undefined) query = query.where('d.state', '=', filter.state);
      if (filter.runId !== undefined) query = query.where('o.run_id', '=', filter.runId);
      if (filter.eventId !== undefined) query = query.where('o.id', '=', filter.eventId);
      if (filter.type !== undefined) query = query.where(typeCondition('o.type', filter.type));
      const { after } = filter;
      if (after !== undefined) {
        query = query.where((eb) =>
          eb.or([
            eb('d.event_seq', '<', after.eventSeq),
            eb.and([eb('d.event_seq', '=', after.eventSeq), eb('d.sink', '>', after.sink)]),
          ]),
        );
      }
      const rows = await query
        .orderBy('d.event_seq', 'desc')
        .orderBy('d.sink')
        .limit(filter.limit ?? DEFAULT_LIST_LIMIT)
        .execute();
      return rows.map(toDeliveryRecord);
    });
  }

  redeliver(filter: DeliveryFilter, now: number): Promise<number> {
    if (filter.state !== undefined && filter.state !== 'dead') return this.#ctx.use(() => Promise.resolve(0));
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        // The matching dead letters, and per (sink, run) the last of them: the run's dead letters
        // up to it go back too, so that none of them is passed by a later one.
        let matching = trx
          .selectFrom('deliveries as d')
          .innerJoin('outbox as o', 'o.seq', 'd.event_seq')
          .select(['d.sink', 'd.event_seq', 'o.run_id'])
          .where('d.state', '=', 'dead');
        if (filter.sink !== undefined) matching = matching.where('d.sink', '=', filter.sink);
        if (filter.runId !== undefined) matching = matching.where('o.run_id', '=', filter.runId);
        if (filter.eventId !== undefined) matching = matching.where('o.id', '=', filter.eventId);
        if (filter.type !== undefined) matching = matching.where(typeCondition('o.type', filter.type));
        const rows = await matching.execute();
        const loose = rows.filter((r) => r.run_id === null).map((r) => ({ sink: r.sink, seq: r.event_seq }));
        const lastPerRun = new Map<string, { sink: string; runId: string; seq: number }>();
        for (const r of rows) {
          if (r.run_id === null) continue;
          const key = JSON.stringify([r.sink, r.run_id]);
          const seen = lastPerRun.get(key);
          if (seen === undefined || r.event_seq > seen.seq) {
            lastPerRun.set(key, { sink: r.sink, runId: r.run_id, seq: r.event_seq });
          }
        }
        const reset = { state: 'pending', next_attempt_at: now, attempts: 0, first_failed_at: null } as const;
        let count = 0;
        for (const batch of chunked(loose, 500)) {
          for (const { sink, seq } of batch) {
            const result = await trx
              .updateTable('deliveries')
              .set(reset)
              .where('sink', '=', sink)
              .where('event_seq', '=', seq)
              .where('state', '=', 'dead')
              .executeTakeFirst();
            count += Number(result.numUpdatedRows);
          }
        }
        for (const { sink, runId, seq } of lastPerRun.values()) {
          const result = await trx
            .updateTable('deliveries')
            .set(reset)
            .where('sink', '=', sink)
            .where('state', '=', 'dead')
            .where('event_seq', '<=', seq)
            .where('event_seq', 'in', (eb) => eb.selectFrom('outbox').select('seq').where('run_id', '=', runId))
            .executeTakeFirst();
          count += Number(result.numUpdatedRows);
        }
        return count;
      }),
    );
  }

  countPending(): Promise<number> {
    return this.#ctx.use(async (db) => {
      // a range count on deliveries_state_idx; PostgreSQL returns count(*) as a bigint string
      const row = await db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('state', '=', 'pending')
        .executeTakeFirstOrThrow();
      return Number(row.count);
    });
  }
}

/** `column` matches the type pattern `pattern` (see `typePatternSql`). */
function typeCondition(column: string, pattern: string): RawBuilder<boolean> {
  const condition = typePatternSql(pattern);
  const ref = sql.ref(column);
  if ('equals' in condition) return sql<boolean>`${ref} = ${condition.equals}`;
  const like = sql<boolean>`${ref} like ${condition.like} escape '\\'`;
  return condition.notLike === undefined
    ? like
    : sql<boolean>`(${like} and ${ref} not like ${condition.notLike} escape '\\')`;
}
