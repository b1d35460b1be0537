import type { JsonObject } from '../../domain/vocabulary.js';
import type { StatusRecord, StatusStore } from '../types.js';
import { reserveSeq } from './reserve-seq.js';
import type { StoreContext } from './store-context.js';

/** `StatusStore` over Kysely: seq 1, 2, 3… per task run, as the reports were appended. */
export class KyselyStatusStore implements StatusStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Throws `NotFoundError` for an unknown task run. */
  append(
    taskRunId: string,
    status: { at: number; message?: string | null; progress?: number | null; output?: JsonObject | null },
  ): Promise<StatusRecord> {
    const { dialect } = this.#ctx;
    const record = {
      taskRunId,
      at: status.at,
      message: status.message ?? null,
      progress: status.progress ?? null,
      output: status.output ?? null,
    };
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        const seq = await reserveSeq(trx, 'status_seq', taskRunId, 1);
        await trx
          .insertInto('statuses')
          .values({
            task_run_id: taskRunId,
            seq,
            at: record.at,
            message: record.message,
            progress: record.progress,
            output: record.output === null ? null : dialect.encodeJson(record.output),
          })
          .execute();
        return { ...record, seq };
      }),
    );
  }

  list(taskRunId: string): Promise<StatusRecord[]> {
    const { dialect } = this.#ctx;
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('statuses')
        .selectAll()
        .where('task_run_id', '=', taskRunId)
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({
        taskRunId: r.task_run_id,
        seq: r.seq,
        at: r.at,
        message: r.message,
        progress: r.progress,
        output: r.output === null ? null : (dialect.decodeJson(r.output) as JsonObject),
      }));
    });
  }
}
