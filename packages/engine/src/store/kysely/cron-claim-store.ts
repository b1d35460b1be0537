import type { CronClaimRecord, CronClaimStore } from '../types.js';
import type { StoreContext } from './store-context.js';

/** `CronClaimStore` over Kysely; see the interface for the contract. */
export class KyselyCronClaimStore implements CronClaimStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  claim(claim: Omit<CronClaimRecord, 'runId'>): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      // the primary key (workflow, trigger_index, tick_at) lets exactly one claimer insert
      const result = await db
        .insertInto('cron_claims')
        .values({
          workflow: claim.workflow,
          trigger_index: claim.triggerIndex,
          tick_at: claim.tickAt,
          claimed_by: claim.claimedBy,
          claimed_at: claim.claimedAt,
          run_id: null,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  setRun(workflow: string, triggerIndex: number, tickAt: number, runId: string): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db
        .updateTable('cron_claims')
        .set({ run_id: runId })
        .where('workflow', '=', workflow)
        .where('trigger_index', '=', triggerIndex)
        .where('tick_at', '=', tickAt)
        .execute();
    });
  }

  list(workflow: string): Promise<CronClaimRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('cron_claims')
        .selectAll()
        .where('workflow', '=', workflow)
        .orderBy('tick_at')
        .orderBy('trigger_index')
        .execute();
      return rows.map((row) => ({
        workflow: row.workflow,
        triggerIndex: row.trigger_index,
        tickAt: row.tick_at,
        claimedBy: row.claimed_by,
        claimedAt: row.claimed_at,
        runId: row.run_id,
      }));
    });
  }

  purge(before: number): Promise<number> {
    return this.#ctx.use(async (db) => {
      const result = await db.deleteFrom('cron_claims').where('tick_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
