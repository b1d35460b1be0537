import { NotFoundError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import type { NewStatus, StatusRecord, StatusStore } from '../types.js';
import { compileStatusStatements, type StatusStatements } from './status-statements.js';
import type { StoreContext } from './store-context.js';

/** Most reports written by one grouped transaction (bounds the statement's parameter count). */
const MAX_GROUP = 256;

/** A queued report; `applies`: it also updates its task run (`record`), not only appends (`append`). */
interface Queued extends Omit<StatusRecord, 'seq'> {
  readonly applies: boolean;
}

interface Pending {
  readonly status: Queued;
  resolve(record: StatusRecord): void;
  reject(error: unknown): void;
}

/**
 * `StatusStore` over Kysely: seq 1, 2, 3… per task run, as the reports were appended.
 *
 * `record` costs what `append` costs: the task run's latest message/output and its `task-status`
 * step mark are set by the same statement that reserves the seq, in the same transaction.
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
  #statements: StatusStatements | undefined;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  append(taskRunId: string, status: NewStatus): Promise<StatusRecord> {
    return this.#enqueue(taskRunId, status, false);
  }

  record(taskRunId: string, status: NewStatus): Promise<StatusRecord> {
    return this.#enqueue(taskRunId, status, true);
  }

  #enqueue(taskRunId: string, status: NewStatus, applies: boolean): Promise<StatusRecord> {
    const record: Queued = {
      taskRunId,
      at: status.at,
      message: status.message ?? null,
      progress: status.progress ?? null,
      output: status.output ?? null,
      applies,
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
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('statuses')
        .selectAll()
        .where('task_run_id', '=', taskRunId)
        .orderBy('seq')
        .execute();
      return rows.map((r) => this.#recordOf(r));
    });
  }

  listForRun(runId: string): Promise<StatusRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('statuses')
        .selectAll()
        .where('task_run_id', 'in', db.selectFrom('task_runs').select('id').where('run_id', '=', runId))
        .orderBy('task_run_id')
        .orderBy('seq')
        .execute();
      return rows.map((r) => this.#recordOf(r));
    });
  }

  #recordOf(r: {
    task_run_id: string;
    seq: number;
    at: number;
    message: string | null;
    progress: number | null;
    output: unknown;
  }): StatusRecord {
    return {
      taskRunId: r.task_run_id,
      seq: r.seq,
      at: r.at,
      message: r.message,
      progress: r.progress,
      output: r.output === null ? null : (this.#ctx.dialect.decodeJson(r.output) as JsonObject),
    };
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

  /**
   * One transaction: reserve each task run's seqs (in id order: a stable lock order), applying
   * the `record` reports' latest message/output and step mark in the same statement, then
   * insert all rows.
   */
  #write(statuses: readonly Queued[]): Promise<StatusRecord[]> {
    const { dialect } = this.#ctx;
    const perTask = new Map<string, TaskEffect>();
    for (const s of statuses) {
      const effect = perTask.get(s.taskRunId) ?? { count: 0, applies: false, message: null, output: null, stepAt: 0 };
      effect.count += 1;
      if (s.applies) {
        // the first report marks the step; the last one reporting a message (an output) sets it
        if (!effect.applies) effect.stepAt = s.at;
        effect.applies = true;
        if (s.message !== null) effect.message = s.message;
        if (s.output !== null) effect.output = s.output;
      }
      perTask.set(s.taskRunId, effect);
    }
    return this.#ctx.use((db) => {
      const hot = (this.#statements ??= compileStatusStatements(db, dialect));
      return db.transaction().execute(async (trx) => {
        const next = new Map<string, number>();
        for (const taskRunId of [...perTask.keys()].sort()) {
          const { count, applies, message, output, stepAt } = perTask.get(taskRunId) as TaskEffect;
          const reserved = await trx.executeQuery(
            applies
              ? hot.reserveAndApply([
                  count,
                  message,
                  output === null ? null : dialect.encodeJson(output),
                  stepAt,
                  taskRunId,
                ])
              : hot.reserve([count, taskRunId]),
          );
          const row = reserved.rows[0];
          if (row === undefined) throw new NotFoundError(`task run ${taskRunId} not found`);
          next.set(taskRunId, Number(row.status_seq) - count + 1);
        }
        const records: StatusRecord[] = statuses.map((s) => {
          const seq = next.get(s.taskRunId) ?? 1;
          next.set(s.taskRunId, seq + 1);
          return { taskRunId: s.taskRunId, seq, at: s.at, message: s.message, progress: s.progress, output: s.output };
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

/** What one grouped transaction does to one task run's row. */
interface TaskEffect {
  /** reports to reserve seqs for */
  count: number;
  /** some of them came through `record` */
  applies: boolean;
  /** the latest reported message and output among the `record` reports (null: none reported) */
  message: string | null;
  output: JsonObject | null;
  /** the first `record` report's time: the `task-status` step mark, unless already marked */
  stepAt: number;
}
