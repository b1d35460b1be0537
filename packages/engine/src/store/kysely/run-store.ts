import { sql, type QueryCreator } from 'kysely';
import { RUN_STATES, type RunState } from '../../domain/states.js';
import type { NewOutboxEvent, NewRun, RunFilter, RunPatch, RunRecord, RunStore } from '../types.js';
import { fitsOneStatement, writeAndRecord } from './move-and-record.js';
import { recordChange } from './record-change.js';
import { toRunRecord } from './run-row.js';
import { moveRun } from './run-transition.js';
import type { StoreSchema } from './schema.js';
import type { StoreContext } from './store-context.js';

const DEFAULT_LIMIT = 50;

/** `RunStore` over Kysely; see the interface for the contract. */
export class KyselyRunStore implements RunStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  create(run: NewRun, events: readonly NewOutboxEvent[] = []): Promise<RunRecord> {
    const { dialect } = this.#ctx;
    const row = {
      id: run.id,
      workflow: run.workflow,
      workflow_version: run.workflowVersion ?? null,
      state: 'queued' as const,
      previous_state: null,
      inputs: dialect.encodeJson(run.inputs),
      sealed_inputs: run.sealedInputs ?? null,
      plan: dialect.encodeJson(run.plan),
      trigger_info: dialect.encodeJson(run.trigger),
      chain_id: run.chainId,
      reason: null,
      parent_run_id: run.parent?.runId ?? null,
      parent_task_run_id: run.parent?.taskRunId ?? null,
      concurrency_group: run.concurrencyGroup ?? null,
      created_at: run.createdAt,
      started_at: null,
      ended_at: null,
      owner: run.owner ?? null,
      max_runs: run.maxRuns ?? null,
      workspace_from: run.workspaceFrom ?? null,
      waiter: run.waiter ?? null,
    };
    const recordOf = (number: number): RunRecord => ({
      id: run.id,
      number,
      workflow: run.workflow,
      workflowVersion: run.workflowVersion ?? null,
      state: 'queued',
      inputs: run.inputs,
      plan: run.plan,
      trigger: run.trigger,
      chainId: run.chainId,
      reason: null,
      owner: run.owner ?? null,
      outputs: null,
      parent: run.parent ?? null,
      concurrencyGroup: run.concurrencyGroup ?? null,
      workspace: { from: run.workspaceFrom ?? null, state: null, expiresAt: null },
      createdAt: run.createdAt,
      startedAt: null,
      endedAt: null,
    });
    const queued = { entityId: run.id, from: null, to: 'queued', at: run.createdAt, reason: null };
    const nextNumber = (db: QueryCreator<StoreSchema>) =>
      db
        .insertInto('workflow_counters')
        .values({ workflow: run.workflow, last_number: 1 })
        .onConflict((oc) => oc.column('workflow').doUpdateSet({ last_number: sql`workflow_counters.last_number + 1` }))
        .returning('last_number');
    if (fitsOneStatement(dialect, events)) {
      // ONE statement (writeAndRecord): the run's number is taken from its workflow's counter row
      // (locked until the statement commits: concurrent creates queue there, each gets the next
      // number, a failed create gives its number back), the run, its history row and its events
      return this.#ctx.use(async (db) => {
        const insert = db
          .insertInto('runs')
          .values({ ...row, number: sql<number>`(select last_number from n)` })
          .returning('number')
          .compile();
        const prelude = { name: 'n', query: nextNumber(db).compile() };
        const written = await writeAndRecord(db, dialect, insert, [queued], events, prelude);
        if (written === undefined) throw new Error(`run ${run.id} was not created`);
        return recordOf(Number(written.number));
      });
    }
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        await recordChange(trx, dialect, queued, events);
        let number: number;
        if (dialect.name === 'postgres') {
          // events of other runs too (not one statement): the counter row is locked last, held
          // for one statement and the commit
          const inserted = await trx
            .with('n', nextNumber)
            .insertInto('runs')
            .values((eb) => ({ ...row, number: eb.selectFrom('n').select('n.last_number') }))
            .returning('number')
            .executeTakeFirstOrThrow();
          number = Number(inserted.number);
        } else {
          number = (await nextNumber(trx).executeTakeFirstOrThrow()).last_number;
          await trx
            .insertInto('runs')
            .values({ ...row, number })
            .execute();
        }
        return recordOf(number);
      }),
    );
  }

  get(id: string): Promise<RunRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toRunRecord(row, this.#ctx.dialect);
    });
  }

  sealedInputs(id: string): Promise<string | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('runs').select('sealed_inputs').where('id', '=', id).executeTakeFirst();
      return row?.sealed_inputs ?? undefined;
    });
  }

  list(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.#ctx.use(async (db) => {
      let query = db.selectFrom('runs').selectAll();
      if (filter.workflow !== undefined) query = query.where('workflow', '=', filter.workflow);
      if (filter.state !== undefined) query = query.where('state', '=', filter.state);
      if (filter.triggerKind !== undefined) {
        query = query.where(this.#ctx.dialect.jsonText('trigger_info', 'kind'), '=', filter.triggerKind);
      }
      if (filter.createdAfter !== undefined) query = query.where('created_at', '>=', filter.createdAfter);
      if (filter.createdBefore !== undefined) query = query.where('created_at', '<', filter.createdBefore);
      if (filter.parentRunId !== undefined) query = query.where('parent_run_id', '=', filter.parentRunId);
      if (filter.concurrencyGroup !== undefined) {
        query = query.where('concurrency_group', '=', filter.concurrencyGroup);
      }
      if (filter.states !== undefined) {
        if (filter.states.length === 0) return [];
        query = query.where('state', 'in', filter.states);
      }
      if (filter.before !== undefined) query = query.where('id', '<', filter.before);
      const rows = await query
        .orderBy('id', 'desc')
        .limit(filter.limit ?? DEFAULT_LIMIT)
        .execute();
      return rows.map((r) => toRunRecord(r, this.#ctx.dialect));
    });
  }

  transition(
    id: string,
    from: readonly RunState[],
    to: RunState,
    at: number,
    patch: RunPatch = {},
    events: readonly NewOutboxEvent[] = [],
  ): Promise<boolean> {
    const { guard, dialect } = this.#ctx;
    const move = { id, from, to, at, patch, events };
    const holder = guard === undefined ? 'anyone' : { owner: guard };
    return this.#ctx.use((db) => moveRun(db, dialect, move, holder));
  }

  listByState(states: readonly RunState[]): Promise<RunRecord[]> {
    if (states.length === 0) return this.#ctx.use(() => Promise.resolve([]));
    return this.#ctx.use(async (db) => {
      const rows = await db.selectFrom('runs').selectAll().where('state', 'in', states).orderBy('id').execute();
      return rows.map((r) => toRunRecord(r, this.#ctx.dialect));
    });
  }

  countByState(): Promise<Record<RunState, number>> {
    return this.#ctx.use(async (db) => {
      // one pass over the (state, id) index; PostgreSQL returns count(*) as a bigint string
      const rows = await db
        .selectFrom('runs')
        .select(['state', (eb) => eb.fn.countAll<number | string>().as('count')])
        .groupBy('state')
        .execute();
      const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
      for (const row of rows) counts[row.state] = Number(row.count);
      return counts;
    });
  }
}
