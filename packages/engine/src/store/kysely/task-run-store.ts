import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { TaskRunState } from '../../domain/states.js';
import { NotFoundError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import type {
  ContractStep,
  NewLogLine,
  NewOutboxEvent,
  NewTaskRun,
  PassedThrough,
  TaskRunPatch,
  TaskRunRecord,
  TaskRunStore,
} from '../types.js';
import { appendLogLines } from './log-store.js';
import { writeAndRecord, type MoveUpdate, type RecordedChange } from './move-and-record.js';
import type { StoreSchema } from './schema.js';
import { assertHoldsRun, explainUnchanged, holdsTaskRun } from './owner-guard.js';
import { compiledOnce, parameterMarker as marker } from './compiled-statement.js';
import type { StoreContext } from './store-context.js';
import { stepMarkedOnce, taskRunPatchColumns, toTaskRunRecord } from './task-run-row.js';
import { inTransaction } from './direct.js';

/** The first transition of a task run created `starting`: it was `pending` from its creation. */
function pendingAt(entityId: string, at: number) {
  return { entityId, from: null, to: 'pending', at, reason: null };
}

/** `TaskRunStore` over Kysely; see the interface for the contract. */
export class KyselyTaskRunStore implements TaskRunStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  create(taskRun: NewTaskRun, events: readonly NewOutboxEvent[] = []): Promise<TaskRunRecord> {
    const { dialect } = this.#ctx;
    const record: TaskRunRecord = {
      id: taskRun.id,
      runId: taskRun.runId,
      stage: taskRun.stage,
      action: taskRun.action,
      attempt: taskRun.attempt,
      state: taskRun.state ?? 'pending',
      component: taskRun.component,
      executor: taskRun.executor,
      tokenHash: taskRun.tokenHash,
      eventData: taskRun.eventData,
      output: {},
      result: null,
      message: null,
      reason: taskRun.reason ?? null,
      exitCode: null,
      ref: null,
      facts: {},
      steps: {},
      matrix: taskRun.matrix ?? null,
      statusCount: 0,
      dropped: { statuses: 0, logLines: 0, logBytes: 0 },
      createdAt: taskRun.createdAt,
      startedAt: null,
      endedAt: null,
    };
    const row = {
      id: record.id,
      run_id: record.runId,
      stage: record.stage,
      action: record.action,
      attempt: record.attempt,
      state: record.state,
      previous_state: null,
      component: record.component,
      executor: record.executor,
      token_hash: record.tokenHash,
      event_data: dialect.encodeJson(record.eventData),
      output: dialect.encodeJson(record.output),
      result: null,
      message: null,
      reason: record.reason,
      exit_code: null,
      ref: null,
      facts: dialect.encodeJson(record.facts),
      steps: dialect.encodeJson(record.steps),
      sealed_event_data: taskRun.sealedEventData ?? null,
      matrix: record.matrix === null ? null : dialect.encodeJson(record.matrix),
      created_at: record.createdAt,
      started_at: null,
      ended_at: null,
    };
    // created ready to start: its history shows it was pending first (as create + transition)
    const starting = record.state === 'starting';
    const changes = [
      ...(starting ? [pendingAt(record.id, record.createdAt)] : []),
      {
        entityId: record.id,
        from: starting ? 'pending' : null,
        to: record.state,
        at: starting ? (taskRun.startingAt ?? record.createdAt) : record.createdAt,
        reason: record.reason,
      },
    ];
    return this.#ctx.use(async (db) => {
      try {
        // a component starts once this is in: not grouped with the rest of the loop's turn
        this.#ctx.commitSoon();
        await writeAndRecord(db, dialect, this.#insertStatement(db, row), changes, events);
      } catch (error) {
        // refused by the owner guard (no run id to insert), or the run does not exist: say which
        await db.transaction().execute((trx) => assertHoldsRun(trx, this.#ctx, record.runId));
        throw error;
      }
      return record;
    });
  }

  /**
   * The insert of a task run (compiled once). Under an owner guard its `run_id` is read from the
   * run's row only while the replica holds it (share-locked on PostgreSQL, as `assertHoldsRun`):
   * when it does not, `run_id` is null and the insert fails on its NOT NULL constraint, so the
   * check and the insert are one statement.
   */
  #insertStatement(db: Kysely<StoreSchema>, row: Record<string, unknown>): CompiledQuery<{ id: string }> {
    const { dialect, guard } = this.#ctx;
    const columns = Object.keys(row);
    const values = [...columns.map((column) => row[column]), ...(guard === undefined ? [] : [guard])];
    return compiledOnce(
      dialect,
      `task-run-insert:${guard === undefined ? '' : 'guarded'}`,
      values.length,
      () =>
        db
          .insertInto('task_runs')
          .values((eb) => {
            const marked: Record<string, unknown> = Object.fromEntries(columns.map((column, i) => [column, marker(i)]));
            if (guard !== undefined) {
              marked['run_id'] = dialect.forShare(
                eb
                  .selectFrom('runs')
                  .select('runs.id')
                  .where('runs.id', '=', marker(columns.indexOf('run_id')))
                  .where('runs.owner', '=', marker(columns.length)),
              );
            }
            return marked as never;
          })
          .returning('id')
          .compile(),
      values,
    );
  }

  get(id: string): Promise<TaskRunRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('task_runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toTaskRunRecord(row, this.#ctx.dialect);
    });
  }

  getByTokenHash(tokenHash: string): Promise<TaskRunRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('task_runs').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row === undefined ? undefined : toTaskRunRecord(row, this.#ctx.dialect);
    });
  }

  sealedEventData(id: string): Promise<string | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('task_runs').select('sealed_event_data').where('id', '=', id).executeTakeFirst();
      return row?.sealed_event_data ?? undefined;
    });
  }

  listByRun(runId: string): Promise<TaskRunRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('task_runs')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map((r) => toTaskRunRecord(r, this.#ctx.dialect));
    });
  }

  transition(
    id: string,
    from: readonly TaskRunState[],
    to: TaskRunState,
    at: number,
    patch: TaskRunPatch = {},
    events: readonly NewOutboxEvent[] = [],
    logs: readonly NewLogLine[] = [],
    through?: PassedThrough,
    steps?: number,
  ): Promise<boolean> {
    if (from.length === 0) return this.#ctx.use(() => Promise.resolve(false));
    const { dialect } = this.#ctx;
    const reason = patch.reason ?? null;
    const changes: RecordedChange[] =
      through === undefined
        ? [{ entityId: id, to, at, reason }]
        : [
            { entityId: id, to: through.state, at: through.at, reason: null },
            { entityId: id, from: through.state, to, at, reason },
          ];
    const move = async (db: Kysely<StoreSchema>): Promise<boolean> => {
      const moved =
        (await writeAndRecord(db, dialect, this.#moveStatement(db, id, from, to, patch, steps), changes, events)) !==
        undefined;
      if (!moved) await explainUnchanged(db, this.#ctx, id);
      // the row is locked and owner-checked by the update (or the guard was explained): the lines
      // need no check of their own, and are the task run's whether or not it moved
      if (logs.length > 0) await appendLogLines(db as Transaction<StoreSchema>, this.#ctx, id, logs);
      return moved;
    };
    return this.#ctx.use((db) => (logs.length === 0 ? move(db) : inTransaction(db, dialect, move)));
  }

  /**
   * The compare-and-set update of a move (see KyselyRunStore.transition for `previous_state`):
   * one compiled statement per shape (the columns set, how many states it moves from, the guards).
   */
  #moveStatement(
    db: Kysely<StoreSchema>,
    id: string,
    from: readonly TaskRunState[],
    to: TaskRunState,
    patch: TaskRunPatch,
    steps: number | undefined,
  ): MoveUpdate {
    const { dialect } = this.#ctx;
    const set = taskRunPatchColumns(patch, dialect);
    const columns = Object.keys(set) as (keyof typeof set)[];
    const guarded = this.#ctx.guard !== undefined;
    const values = [
      ...columns.map((column) => set[column]),
      to,
      id,
      ...from,
      ...(guarded ? [this.#ctx.guard] : []),
      ...(steps === undefined ? [] : [steps]),
    ];
    return compiledOnce(
      dialect,
      `task-run-move:${columns.join(',')}:${from.length}:${guarded ? 'guarded' : ''}:${steps === undefined ? '' : 'steps'}`,
      values.length,
      () => {
        let at = 0;
        const next = () => marker(at++);
        const markedSet = Object.fromEntries(columns.map((column) => [column, next()]));
        const toState = next() as TaskRunState;
        return (
          db
            .updateTable('task_runs')
            .set((eb) => ({ ...markedSet, previous_state: eb.ref('state'), state: toState }))
            .where('id', '=', next())
            .where(
              'state',
              'in',
              from.map(() => next() as TaskRunState),
            )
            .where(holdsTaskRun(this.#ctx, guarded ? next() : undefined))
            // refused when another replica recorded a step the caller has not seen
            .$if(steps !== undefined, (update) =>
              update.where(dialect.jsonKeyCount('steps'), '=', next() as unknown as number),
            )
            .returning('previous_state')
            .compile()
        );
      },
      values,
    );
  }

  /** Throws `NotFoundError` when no task run has `id`. */
  update(id: string, patch: TaskRunPatch, step?: { readonly step: ContractStep; readonly at: number }): Promise<void> {
    const { dialect } = this.#ctx;
    const set = taskRunPatchColumns(patch, dialect);
    const mark = step === undefined ? {} : { steps: stepMarkedOnce(dialect, step.step, step.at) };
    return this.#ctx.use(async (db) => {
      // An empty patch still checks that the task run exists, so callers learn about bad ids.
      const result =
        Object.keys(set).length === 0 && step === undefined
          ? await db.selectFrom('task_runs').select('id').where('id', '=', id).execute()
          : await db
              .updateTable('task_runs')
              .set({ ...set, ...mark })
              .where('id', '=', id)
              .where(holdsTaskRun(this.#ctx))
              .returning('id')
              .execute();
      if (result.length === 0) {
        await explainUnchanged(db, this.#ctx, id);
        throw new NotFoundError(`task run ${id} not found`);
      }
    });
  }

  decide(
    id: string,
    decision: { result: 'success' | 'failure'; output: JsonObject; message: string },
  ): Promise<boolean> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      const result = await db
        .updateTable('task_runs')
        .set({ result: decision.result, output: dialect.encodeJson(decision.output), message: decision.message })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('executor', '=', 'none')
        .where('result', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  markStep(id: string, step: ContractStep, at: number): Promise<void> {
    const { dialect } = this.#ctx;
    const guarded = this.#ctx.guard !== undefined;
    const values = [at, id, ...(guarded ? [this.#ctx.guard] : [])];
    return this.#ctx.use(async (db) => {
      // One conditional update, so of two callbacks racing on the same step the first one wins.
      // Compiled once per step (the step is part of the SQL's JSON path): three callbacks of
      // every task (component-start, task-start, component-stop) are this statement.
      const result = await db.executeQuery(
        compiledOnce(
          dialect,
          `task-run-mark-step:${step}:${guarded ? 'guarded' : ''}`,
          values.length,
          () =>
            db
              .updateTable('task_runs')
              .set({ steps: dialect.jsonWithNumber('steps', step, marker(0) as unknown as number) })
              .where('id', '=', marker(1))
              .where(dialect.jsonLacksKey('steps', step))
              .where(holdsTaskRun(this.#ctx, guarded ? marker(2) : undefined))
              .compile(),
          values,
        ),
      );
      if ((result.numAffectedRows ?? 0n) === 0n) await explainUnchanged(db, this.#ctx, id);
    });
  }
}
