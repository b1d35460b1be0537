import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Selectable,
  type SelectQueryBuilder,
  type SqlBool,
  type Transaction,
} from 'kysely';
import { APPROVAL_COMPONENT } from '../../domain/vocabulary.js';
import type { CancelRequest, ClaimedRun, ClaimScope, LeaseSummary, NewOutboxEvent, RunLeaseStore } from '../types.js';
import { toRunRecord } from './run-row.js';
import { moveRun } from './run-transition.js';
import type { RunsTable, StoreSchema } from './schema.js';
import type { StoreContext } from './store-context.js';
import type { StoreDialect } from './store-dialect.js';
import { withoutLiveLease } from './without-live-lease.js';

/** States of a run that has not ended. */
const UNENDED = ['queued', 'running'] as const;

/**
 * Runs to take over: not ended, and held by a replica without a live lease, or let go of while
 * running (a replica that stopped, or lost its lease).
 */
function orphaned(eb: ExpressionBuilder<StoreSchema, 'runs'>, dialect: StoreDialect): Expression<SqlBool> {
  return eb.and([
    eb('runs.state', 'in', UNENDED),
    eb.or([
      eb.and([eb('runs.owner', 'is not', null), withoutLiveLease('runs.owner', dialect)]),
      eb.and([eb('runs.owner', 'is', null), eb('runs.state', '=', 'running')]),
    ]),
  ]);
}

/**
 * `RunLeaseStore` over Kysely. Claims are single statements `UPDATE runs SET owner … WHERE id IN
 * (SELECT … FOR UPDATE SKIP LOCKED)` (graphile-worker's and Que's pattern), so replicas claiming
 * together take different runs without waiting on each other; a workflow with a `maxRuns` cap is
 * claimed inside a transaction that first locks its counter row, so the count of its held runs
 * and the claim cannot interleave with another replica's; a run of a concurrency group likewise
 * locks its group's row (`concurrency_groups`), and is claimed only while no run of the group is
 * held or running.
 */
export class KyselyRunLeaseStore implements RunLeaseStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  hasQueued(): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('runs')
        .select('runs.id')
        .where('runs.state', '=', 'queued')
        .where('runs.owner', 'is', null)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  claimQueued(owner: string, scope: ClaimScope): Promise<ClaimedRun[]> {
    const { dialect } = this.#ctx;
    const only = scope.only;
    if (scope.limit <= 0 || (only !== undefined && only.length === 0)) return this.#ctx.use(async () => []);
    return this.#ctx.use(async (db) => {
      const unclaimed = (eb: ExpressionBuilder<StoreSchema, 'runs'>) =>
        eb.and([
          eb('runs.state', '=', 'queued'),
          eb('runs.owner', 'is', null),
          // a run a `pilotage run` process waits for is that process's to claim
          eb.or([eb('runs.waiter', 'is', null), eb('runs.waiter', '=', owner)]),
          ...(only === undefined ? [] : [eb('runs.id', 'in', only)]),
        ]);
      // runs without a cap: one statement
      const free = await db
        .updateTable('runs')
        .set({ owner })
        .where((eb) =>
          dialect.inOnce(
            'runs.id',
            dialect.skipLocked(
              eb
                .selectFrom('runs')
                .select('runs.id')
                .where(unclaimed)
                .where('runs.max_runs', 'is', null)
                .where('runs.concurrency_group', 'is', null)
                .orderBy('runs.id')
                .limit(scope.limit),
            ),
          ),
        )
        .where(unclaimed)
        .returningAll()
        .execute();
      const claimed = free.map((row) => this.#claimed(row));
      let room = scope.limit - claimed.length;
      if (room <= 0) return sortById(claimed);
      // runs with a cap: one transaction per workflow
      const capped = await db
        .selectFrom('runs')
        .select('workflow')
        .distinct()
        .where(unclaimed)
        .where('max_runs', 'is not', null)
        .where('concurrency_group', 'is', null)
        .execute();
      for (const { workflow } of capped) {
        if (room <= 0) break;
        const rows = await db.transaction().execute((trx) => this.#claimCapped(trx, owner, workflow, room, only));
        claimed.push(...rows.map((row) => this.#claimed(row)));
        room -= rows.length;
      }
      // runs of a concurrency group: one transaction per group, at most one run each
      const grouped = await db
        .selectFrom('runs')
        .select('concurrency_group')
        .distinct()
        .where(unclaimed)
        .where('concurrency_group', 'is not', null)
        .execute();
      for (const { concurrency_group: group } of grouped) {
        if (room <= 0) break;
        if (group === null) continue;
        const row = await db.transaction().execute((trx) => this.#claimGrouped(trx, owner, group, only));
        if (row === undefined) continue;
        claimed.push(this.#claimed(row));
        room -= 1;
      }
      return sortById(claimed);
    });
  }

  /**
   * Claim up to `room` queued runs of `workflow`, oldest first, while fewer of its runs are held
   * or running than the next one's cap; stops at the first that must wait (no overtaking).
   */
  async #claimCapped(
    trx: Transaction<StoreSchema>,
    owner: string,
    workflow: string,
    room: number,
    only: readonly string[] | undefined,
  ): Promise<Selectable<RunsTable>[]> {
    const { dialect } = this.#ctx;
    // take turns per workflow: the counter row exists for every workflow that has a run
    await dialect
      .forUpdate(trx.selectFrom('workflow_counters').select('last_number').where('workflow', '=', workflow))
      .execute();
    const heldRow = await trx
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('workflow', '=', workflow)
      .where((eb) =>
        eb.or([eb('state', '=', 'running'), eb.and([eb('state', '=', 'queued'), eb('owner', 'is not', null)])]),
      )
      .executeTakeFirstOrThrow();
    let held = Number(heldRow.n);
    const waiting = await trx
      .selectFrom('runs')
      .select(['id', 'max_runs'])
      .where('workflow', '=', workflow)
      .where('state', '=', 'queued')
      .where('owner', 'is', null)
      .$if(only !== undefined, (qb) => qb.where('id', 'in', only ?? []))
      .orderBy('id')
      .limit(room)
      .execute();
    const take: string[] = [];
    for (const run of waiting) {
      if (run.max_runs !== null && held >= run.max_runs) break;
      take.push(run.id);
      held += 1;
    }
    if (take.length === 0) return [];
    return trx
      .updateTable('runs')
      .set({ owner })
      .where('id', 'in', take)
      .where('state', '=', 'queued')
      .where('owner', 'is', null)
      .returningAll()
      .execute();
  }

  /**
   * Claim the oldest queued run of concurrency group `group` when no run of the group is held
   * (claimed or running) and, if its workflow caps its runs, its workflow has room. The group's
   * row is locked first, so replicas claiming at once take turns; the oldest waiting run is never
   * overtaken (`only` restricts which runs may be claimed, not which one is next).
   */
  async #claimGrouped(
    trx: Transaction<StoreSchema>,
    owner: string,
    group: string,
    only: readonly string[] | undefined,
  ): Promise<Selectable<RunsTable> | undefined> {
    const { dialect } = this.#ctx;
    await trx
      .insertInto('concurrency_groups')
      .values({ name: group })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    await dialect.forUpdate(trx.selectFrom('concurrency_groups').select('name').where('name', '=', group)).execute();
    const held = await trx
      .selectFrom('runs')
      .select('id')
      .where('concurrency_group', '=', group)
      .where((eb) =>
        eb.or([eb('state', '=', 'running'), eb.and([eb('state', '=', 'queued'), eb('owner', 'is not', null)])]),
      )
      .limit(1)
      .executeTakeFirst();
    if (held !== undefined) return undefined;
    const next = await trx
      .selectFrom('runs')
      .select(['id', 'workflow', 'max_runs'])
      .where('concurrency_group', '=', group)
      .where('state', '=', 'queued')
      .where('owner', 'is', null)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (next === undefined || (only !== undefined && !only.includes(next.id))) return undefined;
    if (next.max_runs !== null) {
      const row = await trx
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('workflow', '=', next.workflow)
        .where((eb) =>
          eb.or([eb('state', '=', 'running'), eb.and([eb('state', '=', 'queued'), eb('owner', 'is not', null)])]),
        )
        .executeTakeFirstOrThrow();
      if (Number(row.n) >= next.max_runs) return undefined;
    }
    return trx
      .updateTable('runs')
      .set({ owner })
      .where('id', '=', next.id)
      .where('state', '=', 'queued')
      .where('owner', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  takeOver(owner: string, limit: number): Promise<ClaimedRun[]> {
    if (limit <= 0) return this.#ctx.use(async () => []);
    return this.#take(owner, (eb, stillOrphaned) =>
      eb.selectFrom('runs').select('runs.id').where(stillOrphaned).orderBy('runs.id').limit(limit),
    );
  }

  takeOverBeyondRoom(owner: string): Promise<ClaimedRun[]> {
    return this.#take(owner, (eb, stillOrphaned) =>
      eb
        .selectFrom('runs')
        .select('runs.id')
        .where(stillOrphaned)
        .where((w) =>
          w.or([
            w(
              'runs.parent_run_id',
              'in',
              w
                .selectFrom('runs as caller')
                .select('caller.id')
                .where('caller.owner', '=', owner)
                .where('caller.state', 'in', UNENDED),
            ),
            w.exists(
              w
                .selectFrom('task_runs as gate')
                .select('gate.id')
                .whereRef('gate.run_id', '=', 'runs.id')
                .where('gate.component', '=', APPROVAL_COMPONENT)
                .where('gate.state', 'in', ['starting', 'running'])
                .where('gate.result', 'is', null),
            ),
          ]),
        )
        .orderBy('runs.id'),
    );
  }

  /** Set `owner` on the runs `pick` selects that are still orphaned (locked rows skipped), oldest first. */
  #take(
    owner: string,
    pick: (
      eb: ExpressionBuilder<StoreSchema, 'runs'>,
      stillOrphaned: (eb: ExpressionBuilder<StoreSchema, 'runs'>) => Expression<SqlBool>,
    ) => SelectQueryBuilder<StoreSchema, 'runs', { id: string }>,
  ): Promise<ClaimedRun[]> {
    const { dialect } = this.#ctx;
    const stillOrphaned = (eb: ExpressionBuilder<StoreSchema, 'runs'>) => orphaned(eb, dialect);
    return this.#ctx.use(async (db) => {
      const rows = await db
        .updateTable('runs')
        .set({ owner })
        .where((eb) => dialect.inOnce('runs.id', dialect.skipLocked(pick(eb, stillOrphaned))))
        .where(stillOrphaned)
        .returningAll()
        .execute();
      return sortById(rows.map((row) => this.#claimed(row)));
    });
  }

  release(id: string, owner: string): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .updateTable('runs')
        .set({ owner: null })
        .where('id', '=', id)
        .where('owner', '=', owner)
        .where('state', 'in', UNENDED)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  releaseAll(owner: string): Promise<number> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .updateTable('runs')
        .set({ owner: null })
        .where('owner', '=', owner)
        .where('state', 'in', UNENDED)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  cancelQueued(id: string, at: number, reason: string, events: readonly NewOutboxEvent[] = []): Promise<boolean> {
    return this.endQueued(id, 'cancelled', at, reason, events);
  }

  endQueued(
    id: string,
    to: 'cancelled' | 'errored',
    at: number,
    reason: string,
    events: readonly NewOutboxEvent[] = [],
  ): Promise<boolean> {
    const move = { id, from: ['queued'] as const, to, at, patch: { reason, endedAt: at }, events };
    return this.#ctx.use((db) => moveRun(db, this.#ctx.dialect, move, 'nobody'));
  }

  waitedQueued(): Promise<{ readonly runId: string; readonly waiter: string }[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('runs')
        .select(['id', 'waiter'])
        .where('state', '=', 'queued')
        .where('owner', 'is', null)
        .where('waiter', 'is not', null)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ runId: r.id, waiter: r.waiter ?? '' }));
    });
  }

  summary(): Promise<LeaseSummary> {
    const now = this.#ctx.dialect.nowMs();
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('runs')
        .leftJoin('replicas', 'replicas.id', 'runs.owner')
        .select((eb) => [
          'runs.state',
          eb
            .case()
            .when('runs.owner', 'is', null)
            .then(sql<string>`'none'`)
            .when('replicas.expires_at', '>=', now)
            .then(sql<string>`'live'`)
            .else(sql<string>`'gone'`)
            .end()
            .as('holder'),
          eb.fn.countAll<number | string>().as('n'),
        ])
        .where('runs.state', 'in', UNENDED)
        .groupBy(['runs.state', 'holder'])
        .execute();
      let unclaimed = 0;
      let held = 0;
      let orphaned = 0;
      for (const row of rows) {
        const n = Number(row.n);
        if (row.holder === 'live') held += n;
        else if (row.holder === 'gone' || row.state === 'running') orphaned += n;
        else unclaimed += n;
      }
      return { unclaimed, held, orphaned };
    });
  }

  requestCancel(id: string, reason: string): Promise<number> {
    return this.#ctx.use(async (db) => {
      const row = await db
        .updateTable('runs')
        .set({
          cancel_requested: sql<string>`coalesce(cancel_requested, ${reason})`,
          cancel_count: sql<number>`cancel_count + 1`,
        })
        .where('id', '=', id)
        .where('state', 'in', UNENDED)
        .returning('cancel_count')
        .executeTakeFirst();
      return row === undefined ? 0 : Number(row.cancel_count);
    });
  }

  cancelRequests(owner: string): Promise<CancelRequest[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('runs')
        .select(['id', 'cancel_requested', 'cancel_count'])
        .where('owner', '=', owner)
        .where('state', 'in', UNENDED)
        .where('cancel_requested', 'is not', null)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ runId: r.id, reason: r.cancel_requested ?? '', count: cancelsOf(r) }));
    });
  }

  decidedGates(owner: string): Promise<{ runId: string; taskRunId: string }[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('task_runs')
        .innerJoin('runs', 'runs.id', 'task_runs.run_id')
        .select(['task_runs.run_id as runId', 'task_runs.id as taskRunId'])
        .where('runs.owner', '=', owner)
        .where('runs.state', '=', 'running')
        .where('task_runs.state', '=', 'running')
        .where('task_runs.executor', '=', 'none')
        .where('task_runs.result', 'is not', null)
        .orderBy('task_runs.id')
        .execute();
      return rows;
    });
  }

  #claimed(row: Selectable<RunsTable>): ClaimedRun {
    return {
      run: toRunRecord(row, this.#ctx.dialect),
      cancelRequested: row.cancel_requested,
      cancels: row.cancel_requested === null ? 0 : cancelsOf(row),
    };
  }
}

/** How many cancels a run with `cancel_requested` set has had (one recorded by a replica before 0072 counts). */
function cancelsOf(row: Pick<Selectable<RunsTable>, 'cancel_count'>): number {
  return Math.max(1, Number(row.cancel_count));
}

function sortById(claimed: ClaimedRun[]): ClaimedRun[] {
  return claimed.sort((a, b) => (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0));
}
