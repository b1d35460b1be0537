import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { NotFoundError } from '../../domain/errors.js';
import type { StoreSchema } from './schema.js';

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
): Promise<number> {
  const row = await trx
    .updateTable('task_runs')
    .set({ [column]: sql<number>`${sql.ref(column)} + ${count}` })
    .where('id', '=', taskRunId)
    .returning(column)
    .executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`task run ${taskRunId} not found`);
  return (row as Record<typeof column, number>)[column];
}
