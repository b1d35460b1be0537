import type { ExpressionBuilder } from 'kysely';
import type { SlotStore } from '../types.js';
import { chunked } from './chunked.js';
import type { StoreSchema } from './schema.js';
import type { StoreContext } from './store-context.js';
import { compiledOnce, parameterMarker as marker } from './compiled-statement.js';
import { withoutLiveLease } from './without-live-lease.js';

/**
 * `SlotStore` over Kysely (`parallel_slots`): taking a slot is one statement, `UPDATE … WHERE slot
 * = (SELECT … FOR UPDATE SKIP LOCKED)`, so replicas taking slots together never wait on each
 * other; several are taken (and given back) in one statement as well. Rows are created on demand up to the largest `limit` asked for.
 */
export class KyselySlotStore implements SlotStore {
  readonly #ctx: StoreContext;
  /** slots known to exist (rows are never deleted) */
  #rows = 0;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async acquire(owner: string, taskRunId: string, limit: number): Promise<number | undefined> {
    return (await this.#take(owner, taskRunId, limit, 1))[0];
  }

  acquireSome(owner: string, limit: number, count: number): Promise<number[]> {
    return this.#take(owner, '', limit, Math.max(0, Math.floor(count)));
  }

  /** Up to `count` free slots among the first `limit` for `owner`, in one statement. */
  #take(owner: string, taskRunId: string, limit: number, count: number): Promise<number[]> {
    const { dialect } = this.#ctx;
    if (count === 0) return this.#ctx.use(() => Promise.resolve([]));
    const now = dialect.nowMs();
    return this.#ctx.use(async (db) => {
      if (this.#rows < limit) {
        const slots = Array.from({ length: limit }, (_, slot) => ({ slot }));
        for (const batch of chunked(slots, 500)) {
          await db
            .insertInto('parallel_slots')
            .values(batch)
            .onConflict((oc) => oc.column('slot').doNothing())
            .execute();
        }
        this.#rows = limit;
      }
      const statement = compiledOnce(
        dialect,
        'slot-acquire',
        4,
        () => {
          const free = (eb: ExpressionBuilder<StoreSchema, 'parallel_slots'>) =>
            eb.or([eb('parallel_slots.owner', 'is', null), withoutLiveLease('parallel_slots.owner', dialect)]);
          return db
            .updateTable('parallel_slots')
            .set({ owner: marker(0), task_run_id: marker(1), taken_at: now })
            .where((eb) =>
              dialect.inOnce(
                'parallel_slots.slot',
                dialect.skipLocked(
                  eb
                    .selectFrom('parallel_slots')
                    .select('parallel_slots.slot')
                    .where('parallel_slots.slot', '<', marker(2) as unknown as number)
                    .where(free)
                    .orderBy('parallel_slots.slot')
                    .limit(marker(3) as unknown as number),
                ),
              ),
            )
            .where(free)
            .returning('slot')
            .compile();
        },
        [owner, taskRunId, limit, count],
      );
      const { rows } = await db.executeQuery(statement);
      return rows.map((row) => row.slot).sort((a, b) => a - b);
    });
  }

  releaseSome(owner: string, slots: readonly number[]): Promise<void> {
    if (slots.length <= 1)
      return slots.length === 0 ? this.#ctx.use(() => Promise.resolve()) : this.release(owner, slots[0]!);
    return this.#ctx.use(async (db) => {
      for (const batch of chunked(slots, 500)) {
        await db
          .updateTable('parallel_slots')
          .set({ owner: null, task_run_id: null, taken_at: null })
          .where('slot', 'in', batch)
          .where('owner', '=', owner)
          .execute();
      }
    });
  }

  release(owner: string, slot: number): Promise<void> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      const statement = compiledOnce(
        dialect,
        'slot-release',
        2,
        () =>
          db
            .updateTable('parallel_slots')
            .set({ owner: null, task_run_id: null, taken_at: null })
            .where('slot', '=', marker(0) as unknown as number)
            .where('owner', '=', marker(1))
            .compile(),
        [slot, owner],
      );
      await db.executeQuery(statement);
    });
  }

  held(): Promise<number> {
    const now = this.#ctx.dialect.nowMs();
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('parallel_slots')
        .innerJoin('replicas', 'replicas.id', 'parallel_slots.owner')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('replicas.expires_at', '>=', now)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }
}
