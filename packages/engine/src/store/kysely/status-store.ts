import type { JsonObject } from '../../domain/vocabulary.js';
import type { StatusRecord, StatusStore } from '../types.js';
import { reserveSeq } from './reserve-seq.js';
import type { StoreContext } from './store-context.js';

/** Most reports written by one grouped transaction (bounds the statement's parameter count). */
const MAX_GROUP = 256;

type NewStatus = Omit<StatusRecord, 'seq'>;

interface Pending {
  readonly status: NewStatus;
  resolve(record: StatusRecord): void;
  reject(error: unknown): void;
}

/**
 * `StatusStore` over Kysely: seq 1, 2, 3… per task run, as the reports were appended.
 *
 * Group commit: a report is written at once when no write is under way; reports appended while
 * one is (other task runs' components posting at the same time) wait and are written together
 * by the next transaction, one seq reservation per task run and one multi-row insert. Each
 * `append` still resolves only once its own row is committed, so nothing is acknowledged before
 * it is stored; a lone report pays no extra delay. If a grouped write fails (an unknown task run
 * among them), each report of the group is retried alone, so only the bad one fails.
 */
export class KyselyStatusStore implements StatusStore {
  readonly #ctx: StoreContext;
  #queue: Pending[] = [];
  #writing = false;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Throws `NotFoundError` for an unknown task run. */
  append(
    taskRunId: string,
    status: { at: number; message?: string | null; progress?: number | null; output?: JsonObject | null },
  ): Promise<StatusRecord> {
    const record: NewStatus = {
      taskRunId,
      at: status.at,
      message: status.message ?? null,
      progress: status.progress ?? null,
      output: status.output ?? null,
    };
    return new Promise((resolve, reject) => {
      this.#queue.push({ status: record, resolve, reject });
      if (!this.#writing) {
        this.#writing = true;
        void this.#drain();
      }
    });
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

  /** Write what is queued, a group at a time, until the queue is empty. Never rejects. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, MAX_GROUP);
        try {
          const records = await this.#write(group.map((p) => p.status));
          group.forEach((p, i) => p.resolve(records[i] as StatusRecord));
        } catch (error) {
          if (group.length === 1) {
            group[0]?.reject(error);
            continue;
          }
          for (const pending of group) {
            await this.#write([pending.status]).then(
              ([record]) => pending.resolve(record as StatusRecord),
              (alone: unknown) => pending.reject(alone),
            );
          }
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  /** One transaction: reserve each task run's seqs (in id order: a stable lock order), insert all rows. */
  #write(statuses: readonly NewStatus[]): Promise<StatusRecord[]> {
    const { dialect } = this.#ctx;
    const counts = new Map<string, number>();
    for (const s of statuses) counts.set(s.taskRunId, (counts.get(s.taskRunId) ?? 0) + 1);
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        const next = new Map<string, number>();
        for (const taskRunId of [...counts.keys()].sort()) {
          const count = counts.get(taskRunId) ?? 1;
          const last = await reserveSeq(trx, 'status_seq', taskRunId, count);
          next.set(taskRunId, last - count + 1);
        }
        const records = statuses.map((s) => {
          const seq = next.get(s.taskRunId) ?? 1;
          next.set(s.taskRunId, seq + 1);
          return { ...s, seq };
        });
        await trx
          .insertInto('statuses')
          .values(
            records.map((r) => ({
              task_run_id: r.taskRunId,
              seq: r.seq,
              at: r.at,
              message: r.message,
              progress: r.progress,
              output: r.output === null ? null : dialect.encodeJson(r.output),
            })),
          )
          .execute();
        return records;
      }),
    );
  }
}
