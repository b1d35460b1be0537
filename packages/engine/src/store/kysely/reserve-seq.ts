import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { NotFoundError } from '../../domain/errors.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import { compiledOnce, parameterMarker as marker } from './compiled-statement.js';
import { executeCompiled } from './direct.js';

/**
 * Reserve `count` consecutive sequence numbers for a task run's logs or statuses and return the
 * last one (the range is `last - count + 1 .. last`). The update row-locks the task run until the
 * caller's transaction ends, which serialises appends per task run on PostgreSQL (SQLite has one
 * writer anyway), so seqs are gapless and ordered by commit. Throws `NotFoundError` for an
 * unknown task run.
 */
export async function reserveSeq(
  trx: Transaction<StoreSchema>,
  column: 'log_seq' | 'status_seq',
  taskRunId: string,
  count: number,
  dialect: StoreDialect,
): Promise<number> {
  const statement = compiledOnce(
    dialect,
    `reserve-seq:${column}`,
    2,
    () =>
      trx
        .updateTable('task_runs')
        .set({ [column]: sql<number>`${sql.ref(column)} + ${marker(0)}` })
        .where('id', '=', marker(1))
        .returning(column)
        .compile(),
    [count, taskRunId],
  );
  const row = (await executeCompiled(trx, dialect, statement)).rows[0];
  if (row === undefined) throw new NotFoundError(`task run ${taskRunId} not found`);
  return (row as Record<typeof column, number>)[column];
}
