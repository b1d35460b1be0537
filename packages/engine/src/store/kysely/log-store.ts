import { sql, type Transaction } from 'kysely';
import { NotFoundError } from '../../domain/errors.js';
import { logLineBytes } from '../../domain/task-run-limits.js';
import type { LogRecord, LogStore, NewLogLine } from '../types.js';
import { chunked } from './chunked.js';
import { compiledOnce, parameterMarker as marker } from './compiled-statement.js';
import { writeLimitNotice } from './limit-notice.js';
import { assertHoldsTask } from './owner-guard.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';
import type { StoreContext } from './store-context.js';
import { executeCompiled, inTransaction } from './direct.js';

const DEFAULT_READ_LIMIT = 1000;
/** 5 parameters a row: 1000 rows stay far below either dialect's parameter limit. */
const ROWS_PER_INSERT = 1000;
/** Inserts of up to this many lines are compiled once per size (`compiledOnce`); larger ones are built. */
const COMPILED_ROWS = 8;

type LogRow = { task_run_id: string; seq: number; at: number; stream: 'stdout' | 'stderr'; line: string };

function toLogRecord(row: LogRow): LogRecord {
  return { taskRunId: row.task_run_id, seq: row.seq, at: row.at, stream: row.stream, line: row.line };
}

/**
 * In `trx`: insert `lines` as seqs `first`, `first + 1`…, 1000 rows a statement (small inserts
 * compiled once per size).
 */
async function insertLines(
  trx: Transaction<StoreSchema>,
  dialect: StoreDialect,
  taskRunId: string,
  first: number,
  lines: readonly NewLogLine[],
): Promise<void> {
  let offset = 0;
  for (const batch of chunked(lines, ROWS_PER_INSERT)) {
    const base = first + offset;
    const rows = batch.map((l, i) => ({
      task_run_id: taskRunId,
      seq: base + i,
      at: l.at,
      stream: l.stream,
      line: l.line,
    }));
    if (rows.length <= COMPILED_ROWS) {
      const values = rows.flatMap((r) => [r.task_run_id, r.seq, r.at, r.stream, r.line]);
      await executeCompiled(
        trx,
        dialect,
        compiledOnce(
          dialect,
          `log-insert:${rows.length}`,
          values.length,
          () =>
            trx
              .insertInto('logs')
              .values(
                rows.map((_, i) => ({
                  task_run_id: marker(i * 5),
                  seq: marker(i * 5 + 1) as unknown as number,
                  at: marker(i * 5 + 2) as unknown as number,
                  stream: marker(i * 5 + 3) as LogRow['stream'],
                  line: marker(i * 5 + 4),
                })),
              )
              .compile(),
          values,
        ),
      );
    } else if (rows.length > 0) {
      await trx.insertInto('logs').values(rows).execute();
    }
    offset += batch.length;
  }
}

/** A number the statement compares as bigint on both dialects (PostgreSQL infers a parameter's type). */
function big(value: unknown) {
  return sql<number>`cast(${value} as bigint)`;
}

/**
 * In `trx`: append `lines` to task run `taskRunId`'s log under the log bytes cap of `ctx.limits`,
 * with no owner check (the caller's transaction made it). Returns the seq of the last line stored.
 * Under the cap, one statement takes the seqs and counts the bytes; when it refuses, the row is
 * read under its lock and the lines that still fit are kept, the rest counted. Throws
 * `NotFoundError` for an unknown task run.
 */
export async function appendLogLines(
  trx: Transaction<StoreSchema>,
  ctx: StoreContext,
  taskRunId: string,
  lines: readonly NewLogLine[],
): Promise<number> {
  const { dialect, limits } = ctx;
  const sizes = lines.map((l) => logLineBytes(l.line));
  const bytes = sizes.reduce((sum, n) => sum + n, 0);
  const taken = await executeCompiled(
    trx,
    dialect,
    compiledOnce(
      dialect,
      'log-reserve-capped',
      4,
      () =>
        trx
          .updateTable('task_runs')
          .set({
            log_seq: sql<number>`${sql.ref('log_seq')} + ${marker(0)}`,
            log_bytes: sql<number>`${sql.ref('log_bytes')} + ${big(marker(1))}`,
          })
          .where('id', '=', marker(2))
          .where(
            sql<boolean>`${sql.ref('log_lines_dropped')} = 0 and ${sql.ref('log_bytes')} + ${big(marker(1))} <= ${big(marker(3))}`,
          )
          .returning('log_seq')
          .compile(),
      [lines.length, bytes, taskRunId, limits.logBytes],
    ),
  );
  const row = taken.rows[0];
  if (row === undefined) return appendPastCap(trx, ctx, taskRunId, lines, sizes);
  const last = Number(row.log_seq);
  await insertLines(trx, dialect, taskRunId, last - lines.length + 1, lines);
  return last;
}

/** The lines that fit under the cap are stored, the rest counted; the first drop writes the notice. */
async function appendPastCap(
  trx: Transaction<StoreSchema>,
  ctx: StoreContext,
  taskRunId: string,
  lines: readonly NewLogLine[],
  sizes: readonly number[],
): Promise<number> {
  const { dialect, limits } = ctx;
  // a no-op update: reads the counters under the row lock the seq reservation takes anyway
  const row = await trx
    .updateTable('task_runs')
    .set({ log_seq: sql<number>`${sql.ref('log_seq')}` })
    .where('id', '=', taskRunId)
    .returning(['log_seq', 'log_bytes', 'log_lines_dropped'])
    .executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`task run ${taskRunId} not found`);
  let fit = 0;
  let keptBytes = 0;
  if (Number(row.log_lines_dropped) === 0) {
    let used = Number(row.log_bytes);
    while (fit < lines.length && used + (sizes[fit] as number) <= limits.logBytes) {
      used += sizes[fit] as number;
      keptBytes += sizes[fit] as number;
      fit += 1;
    }
  }
  const droppedBytes = sizes.reduce((sum, n) => sum + n, 0) - keptBytes;
  const first = Number(row.log_seq) + 1;
  await trx
    .updateTable('task_runs')
    .set({
      log_seq: sql<number>`${sql.ref('log_seq')} + ${fit}`,
      log_bytes: sql<number>`${sql.ref('log_bytes')} + ${big(keptBytes)}`,
      log_lines_dropped: sql<number>`${sql.ref('log_lines_dropped')} + ${big(lines.length - fit)}`,
      log_bytes_dropped: sql<number>`${sql.ref('log_bytes_dropped')} + ${big(droppedBytes)}`,
    })
    .where('id', '=', taskRunId)
    .execute();
  await insertLines(trx, dialect, taskRunId, first, lines.slice(0, fit));
  const firstDrop = Number(row.log_lines_dropped) === 0 && fit < lines.length;
  if (firstDrop) await writeLimitNotice(trx, dialect, taskRunId, 'logs', limits, lines[fit]?.at ?? Date.now());
  return first + fit - 1 + (firstDrop ? 1 : 0);
}

/**
 * `LogStore` over Kysely: one transaction per append (owner-checked), one insert per 1000 lines,
 * under the log bytes cap of `StoreContext.limits` (`appendLogLines`).
 */
export class KyselyLogStore implements LogStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Throws `NotFoundError` for an unknown task run (also when `lines` is empty). */
  append(taskRunId: string, lines: readonly NewLogLine[]): Promise<number> {
    return this.#ctx.use((db) =>
      inTransaction(db, this.#ctx.dialect, async (trx) => {
        await assertHoldsTask(trx, this.#ctx, taskRunId);
        return appendLogLines(trx, this.#ctx, taskRunId, lines);
      }),
    );
  }

  read(taskRunId: string, afterSeq = 0, limit = DEFAULT_READ_LIMIT): Promise<LogRecord[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('logs')
        .selectAll()
        .where('task_run_id', '=', taskRunId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toLogRecord);
    });
  }

  tail(taskRunId: string, count: number): Promise<LogRecord[]> {
    return this.#ctx.use(async (db) => {
      if (count <= 0) return [];
      const rows = await db
        .selectFrom('logs')
        .selectAll()
        .where('task_run_id', '=', taskRunId)
        .orderBy('seq', 'desc')
        .limit(count)
        .execute();
      return rows.reverse().map(toLogRecord);
    });
  }
}
