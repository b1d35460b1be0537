import type { Transaction } from 'kysely';
import { limitNotice, type TaskRunLimitKind, type TaskRunLimits } from '../../domain/task-run-limits.js';
import { reserveSeq } from './reserve-seq.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/**
 * In `trx`: append the one notice line of a cap of `kind` to task run `taskRunId`'s log (stderr,
 * at `at`), outside the log cap: it is the last line a capped log shows. Called once per kind,
 * by the write that first drops something (its counter went from 0 to more).
 */
export async function writeLimitNotice(
  trx: Transaction<StoreSchema>,
  dialect: StoreDialect,
  taskRunId: string,
  kind: TaskRunLimitKind,
  limits: TaskRunLimits,
  at: number,
): Promise<void> {
  const seq = await reserveSeq(trx, 'log_seq', taskRunId, 1, dialect);
  await trx
    .insertInto('logs')
    .values({ task_run_id: taskRunId, seq, at, stream: 'stderr', line: limitNotice(kind, limits) })
    .execute();
}
