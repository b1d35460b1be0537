import { sql, type CompiledQuery, type Kysely } from 'kysely';
import { NotFoundError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import type { StatusRecord, StatusStore } from '../types.js';
import type { StoreSchema } from './schema.js';
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
 * by the next transaction (one seq reservation per task run, then the rows). Each
 * `append` still resolves only once its own row is committed, so nothing is acknowledged before
 * it is stored; a lone report pays no extra delay. If a grouped write fails (an unknown task run
 * among them), each report of the group is retried alone, so only the bad one fails.
 */
export class KyselyStatusStore implements StatusStore {
  readonly #ctx: StoreContext;
  #queue: Pending[] = [];
  #writing = false;
  #hot: HotStatements | undefined;

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
    return this.#ctx.use((db) => {
      const hot = (this.#hot ??= compileHotStatements(db));
      return db.transaction().execute(async (trx) => {
        const next = new Map<string, number>();
        for (const taskRunId of [...counts.keys()].sort()) {
          const count = counts.get(taskRunId) ?? 1;
          const reserved = await trx.executeQuery(hot.reserve([count, taskRunId]));
          const row = reserved.rows[0];
          if (row === undefined) throw new NotFoundError(`task run ${taskRunId} not found`);
          next.set(taskRunId, Number(row.status_seq) - count + 1);
        }
        const records = statuses.map((s) => {
          const seq = next.get(s.taskRunId) ?? 1;
          next.set(s.taskRunId, seq + 1);
          return { ...s, seq };
        });
        for (const r of records) {
          const output = r.output === null ? null : dialect.encodeJson(r.output);
          await trx.executeQuery(hot.insert([r.taskRunId, r.seq, r.at, r.message, r.progress, output]));
        }
        return records;
      });
    });
  }
}

/** The two statements of every report, compiled once: Kysely otherwise builds, freezes and compiles them per call. */
interface HotStatements {
  /** `[count, taskRunId]` → the task run's `status_seq` after adding `count` (no row: unknown task run) */
  reserve(values: readonly [number, string]): CompiledQuery<{ status_seq: number }>;
  /** `[taskRunId, seq, at, message, progress, output]` → one status row */
  insert(values: readonly [string, number, number, string | null, number | null, string | null]): CompiledQuery;
}

/**
 * Compile the statements with marker values, note where each marker landed among the
 * parameters, and return functions that put real values there. Same SQL as the query builder
 * writes (the same as `reserveSeq` and the insert builder), one compilation per store.
 */
function compileHotStatements(db: Kysely<StoreSchema>): HotStatements {
  const marker = (i: number): string => `\u0000pilotage-param-${i}`;
  const bind = <R>(compiled: CompiledQuery<R>, arity: number) => {
    const slots = compiled.parameters.map((p) => {
      const slot = Array.from({ length: arity }, (_, i) => marker(i)).indexOf(p as string);
      if (slot < 0) throw new Error(`a compiled status statement has an unexpected parameter: ${compiled.sql}`);
      return slot;
    });
    return (values: readonly unknown[]): CompiledQuery<R> => ({ ...compiled, parameters: slots.map((i) => values[i]) });
  };
  const reserve = db
    .updateTable('task_runs')
    .set({ status_seq: sql<number>`${sql.ref('status_seq')} + ${marker(0)}` })
    .where('id', '=', marker(1))
    .returning('status_seq')
    .compile();
  const insert = db
    .insertInto('statuses')
    .values({
      task_run_id: marker(0),
      seq: marker(1) as unknown as number,
      at: marker(2) as unknown as number,
      message: marker(3),
      progress: marker(4) as unknown as number,
      output: marker(5),
    })
    .compile();
  return { reserve: bind(reserve, 2), insert: bind(insert, 6) };
}
