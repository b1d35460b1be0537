import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import { LeaseLostError, NotFoundError } from '../../domain/errors.js';
import type { StoreSchema } from './schema.js';
import type { StoreContext } from './store-context.js';
import { compiledOnce, parameterMarker as marker } from './compiled-statement.js';
import { executeCompiled } from './direct.js';

/**
 * The owner check of a context `ownedBy` a replica (`Store.ownedBy`): a state change of a run or
 * of one of its task runs applies only while the replica holds the run. The check and the write
 * are one transaction; on PostgreSQL the run's row is share-locked by the check, so a replica
 * taking the run over (an update of `runs.owner`) waits until the write has committed, and a
 * takeover that committed first makes the check fail. Without a guard nothing is checked.
 */

/** In `trx`: reject with LeaseLostError unless the context's replica holds run `runId`. */
export async function assertHoldsRun(trx: Transaction<StoreSchema>, ctx: StoreContext, runId: string): Promise<void> {
  if (ctx.guard === undefined) return;
  const { dialect } = ctx;
  const statement = compiledOnce(
    dialect,
    'holds-run',
    1,
    () => dialect.forShare(trx.selectFrom('runs').select('owner').where('id', '=', marker(0))).compile(),
    [runId],
  );
  const row = (await executeCompiled(trx, dialect, statement)).rows[0];
  if (row === undefined) throw new NotFoundError(`run ${runId} not found`);
  if (row.owner !== ctx.guard) throw LeaseLostError.heldBy(runId, row.owner);
}

/** In `trx`: reject with LeaseLostError unless the context's replica holds task run `taskRunId`'s run. */
export async function assertHoldsTask(
  trx: Transaction<StoreSchema>,
  ctx: StoreContext,
  taskRunId: string,
): Promise<void> {
  if (ctx.guard === undefined) return;
  const { dialect } = ctx;
  const statement = compiledOnce(
    dialect,
    'holds-task',
    1,
    () =>
      dialect
        .forShare(
          trx
            .selectFrom('runs')
            .select(['id', 'owner'])
            .where('id', '=', (eb) =>
              eb.selectFrom('task_runs').select('run_id').where('task_runs.id', '=', marker(0)),
            ),
        )
        .compile(),
    [taskRunId],
  );
  const row = (await executeCompiled(trx, dialect, statement)).rows[0];
  if (row === undefined) throw new NotFoundError(`task run ${taskRunId} not found`);
  if (row.owner !== ctx.guard) throw LeaseLostError.heldBy(row.id, row.owner);
}

/**
 * A WHERE condition for a statement on `task_runs`: true while the context's replica holds the
 * task run's run (share-locking the run's row on PostgreSQL, as `assertHoldsRun`). Always true
 * without a guard. When the statement then changes no row, `explainUnchanged` tells why.
 * `owner` stands for the guard's value in a statement compiled once (`compiledOnce`).
 */
export function holdsTaskRun(ctx: StoreContext, owner: string | undefined = ctx.guard) {
  return (eb: ExpressionBuilder<StoreSchema, 'task_runs'>) => {
    if (ctx.guard === undefined || owner === undefined) return sql<boolean>`true`;
    return eb.exists(
      ctx.dialect.forShare(
        eb
          .selectFrom('runs')
          .select(sql`1`.as('one'))
          .whereRef('runs.id', '=', 'task_runs.run_id')
          .where('runs.owner', '=', owner),
      ),
    );
  };
}

/**
 * After a guarded statement on task run `taskRunId` changed nothing: reject with LeaseLostError
 * when the context's replica does not hold its run (the guard refused it); resolve otherwise
 * (the statement's own condition did not match).
 */
export async function explainUnchanged(db: Kysely<StoreSchema>, ctx: StoreContext, taskRunId: string): Promise<void> {
  if (ctx.guard === undefined) return;
  const row = await db
    .selectFrom('task_runs')
    .innerJoin('runs', 'runs.id', 'task_runs.run_id')
    .select(['runs.id as runId', 'runs.owner as owner'])
    .where('task_runs.id', '=', taskRunId)
    .executeTakeFirst();
  if (row !== undefined && row.owner !== ctx.guard) throw LeaseLostError.heldBy(row.runId, row.owner);
}
