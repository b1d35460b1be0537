import type { NewOutboxEvent, OutboxRecord, OutboxStore } from '../types.js';
import { toOutboxRecord } from './outbox-row.js';
import { recordChanges } from './record-change.js';
import type { StoreContext } from './store-context.js';
import { inTransaction } from './direct.js';

/**
 * `OutboxStore` over Kysely. On PostgreSQL, `seq` is handed out at insert but transactions
 * commit in any order, so a reader of `listAfter` may see seq 7 before seq 6 exists; delivery
 * therefore tracks events per row (`DeliveryStore.enqueueNew`), not by a high-water mark.
 * Within one run there is no such reordering: its writes are serialised (record-change.ts).
 */
export class KyselyOutboxStore implements OutboxStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  listAfter(afterSeq: number, limit: number): Promise<OutboxRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((r) => toOutboxRecord(r, this.#ctx.dialect));
    });
  }

  listByRun(runId: string): Promise<OutboxRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('run_id', '=', runId)
        // not by run_seq: rows of older replicas have none (null sorts first on SQLite, last on PostgreSQL)
        .orderBy('seq')
        .execute();
      return rows.map((r) => toOutboxRecord(r, this.#ctx.dialect));
    });
  }

  append(events: readonly NewOutboxEvent[]): Promise<void> {
    if (events.length === 0) return this.#ctx.use(() => Promise.resolve());
    return this.#ctx.use((db) =>
      inTransaction(db, this.#ctx.dialect, (trx) => recordChanges(trx, this.#ctx.dialect, [], events)),
    );
  }
}
