import { NotFoundError } from '../../domain/errors.js';
import type { JsonObject } from '../../domain/vocabulary.js';
import { sql, type Kysely } from 'kysely';
import type { NewStatus, StatusPageQuery, StatusRecord, StatusStore } from '../types.js';
import { compileStatusStatements, type StatusStatements } from './status-statements.js';
import type { StoreContext } from './store-context.js';
import type { StoreSchema } from './schema.js';
import { writeLimitNotice } from './limit-notice.js';
import { executeCompiled, inTransaction } from './direct.js';

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
 * step mark are set by the same statement that reserves the seq, in the same transaction. That
 * statement also checks the status caps (`StoreContext.limits`) and counts the report's bytes;
 * past a cap a report is counted as dropped instead of stored (one more statement).
 *
 * Group commit: reports are written together, one transaction (one seq reservation and one row
 * per report) for all the reports queued when it starts: a write starts after the I/O callbacks
 * of the turn that queued the first report, so the requests read in one turn share it, and the
 * reports queued while a write is under way share the next one. Each `append` still resolves
 * only once its own row is committed, so nothing is acknowledged before it is stored; a lone
 * report waits one event-loop turn at most. If a grouped write fails (an unknown task run among
 * them), each report of the group is retried alone, so only the bad one fails.
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
        // After the I/O callbacks of this turn: the reports of the other requests read in the
        // same turn join this one's transaction. better-sqlite3 is synchronous, so without this
        // turn a write ends before the next request is even parsed and no group ever forms.
        // The first group's write counts as under way from now (`use`), so that a `close` in
        // this turn waits for it, as it waits for any call made before it.
        this.#ctx
          .use(async (db) => {
            await new Promise((turn) => setImmediate(turn));
            await this.#drain(db);
          })
          .catch((error: unknown) => {
            for (const pending of this.#queue.splice(0)) pending.reject(error);
            this.#writing = false;
          });
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

  read(taskRunId: string, page: StatusPageQuery): Promise<StatusRecord[]> {
    return this.#ctx.use(async (db) => {
      const base = db.selectFrom('statuses').selectAll().where('task_run_id', '=', taskRunId);
      if (page.before === undefined) {
        const rows = await base
          .where('seq', '>', page.after ?? 0)
          .orderBy('seq')
          .limit(page.limit)
          .execute();
        return rows.map((r) => this.#recordOf(r));
      }
      const below = Number.isFinite(page.before) ? base.where('seq', '<', page.before) : base;
      const rows = await below.orderBy('seq', 'desc').limit(page.limit).execute();
      return rows.reverse().map((r) => this.#recordOf(r));
    });
  }

  latestForRun(runId: string, count: number): Promise<StatusRecord[]> {
    return this.#ctx.use(async (db) => {
      if (count <= 0) return [];
      // seqs are gapless 1..status_seq: the latest `count` are those above status_seq - count
      const rows = await db
        .selectFrom('statuses')
        .innerJoin('task_runs', 'task_runs.id', 'statuses.task_run_id')
        .selectAll('statuses')
        .where('task_runs.run_id', '=', runId)
        .where(sql<boolean>`${sql.ref('statuses.seq')} > ${sql.ref('task_runs.status_seq')} - ${count}`)
        .orderBy('statuses.task_run_id')
        .orderBy('statuses.seq')
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

  /**
   * Write what is queued, a group at a time, until the queue is empty. Never rejects. The first
   * group is written with `first` (the connection of the `use` that started the drain); later
   * ones each through `use`, so that once the store is closing they are refused.
   */
  async #drain(first: Kysely<StoreSchema>): Promise<void> {
    let db: Kysely<StoreSchema> | undefined = first;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, MAX_GROUP);
        const on = db;
        db = undefined;
        try {
          const records = await this.#write(
            group.map((p) => p.status),
            on,
          );
          group.forEach((p, i) => p.resolve(records[i] as StatusRecord));
        } catch (error) {
          if (group.length === 1) {
            group[0]?.reject(error);
            continue;
          }
          for (const pending of group) {
            await this.#write([pending.status], on).then(
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
   * One transaction: each report, in task run id order (a stable lock order; a task run's
   * reports keep theirs), takes its task run's next seq under the status caps, applying a
   * `record` report's message/output and step mark in the same statement, and is inserted. A
   * report the caps refuse is counted instead (and still applied): the first one dropped also
   * writes the notice line into the task run's log.
   */
  #write(statuses: readonly Queued[], on?: Kysely<StoreSchema>): Promise<StatusRecord[]> {
    const { dialect, limits } = this.#ctx;
    const order = statuses
      .map((s, i) => ({ s, i }))
      .sort((a, b) => compareIds(a.s.taskRunId, b.s.taskRunId) || a.i - b.i);
    const use = <T>(fn: (db: Kysely<StoreSchema>) => Promise<T>): Promise<T> =>
      on === undefined ? this.#ctx.use(fn) : fn(on);
    return use((db) => {
      const hot = (this.#statements ??= compileStatusStatements(db, dialect, limits));
      // gathered for a turn already (`#enqueue`), and each report's caller waits for its answer
      this.#ctx.commitSoon();
      return inTransaction(db, dialect, async (trx) => {
        const records: StatusRecord[] = new Array<StatusRecord>(statuses.length);
        for (const { s, i } of order) {
          const output = s.output === null ? null : dialect.encodeJson(s.output);
          const bytes = reportBytes(s.message, output);
          const kept = await executeCompiled(
            trx,
            dialect,
            s.applies
              ? hot.reserveAndApply([bytes, s.message, output, s.at, s.taskRunId])
              : hot.reserve([bytes, s.taskRunId]),
          );
          const row = kept.rows[0];
          if (row !== undefined) {
            const seq = Number(row.status_seq);
            await executeCompiled(trx, dialect, hot.insert([s.taskRunId, seq, s.at, s.message, s.progress, output]));
            records[i] = statusRecord(s, seq);
            continue;
          }
          const counted = await executeCompiled(
            trx,
            dialect,
            s.applies ? hot.dropAndApply([s.message, output, s.at, s.taskRunId]) : hot.drop([s.taskRunId]),
          );
          const dropped = counted.rows[0];
          if (dropped === undefined) throw new NotFoundError(`task run ${s.taskRunId} not found`);
          if (Number(dropped.statuses_dropped) === 1) {
            await writeLimitNotice(trx, dialect, s.taskRunId, 'statuses', limits, s.at);
          }
          records[i] = { ...statusRecord(s, 0), dropped: true };
        }
        return records;
      });
    });
  }
}

/** A report as stored (or, with seq 0, as dropped). */
function statusRecord(s: Queued, seq: number): StatusRecord {
  return { taskRunId: s.taskRunId, seq, at: s.at, message: s.message, progress: s.progress, output: s.output };
}

/** What a report counts for against the status bytes cap: its message and output JSON, UTF-8. */
function reportBytes(message: string | null, output: string | null): number {
  return (
    (message === null ? 0 : Buffer.byteLength(message, 'utf8')) +
    (output === null ? 0 : Buffer.byteLength(output, 'utf8'))
  );
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
