import type { LogRecord, LogStore } from '../types.js';
import { chunked } from './chunked.js';
import { compiledOnce, parameterMarker as marker } from './compiled-statement.js';
import { assertHoldsTask } from './owner-guard.js';
import { reserveSeq } from './reserve-seq.js';
import type { StoreContext } from './store-context.js';

const DEFAULT_READ_LIMIT = 1000;
/** 5 parameters a row: 1000 rows stay far below either dialect's parameter limit. */
const ROWS_PER_INSERT = 1000;
/** Inserts of up to this many lines are compiled once per size (`compiledOnce`); larger ones are built. */
const COMPILED_ROWS = 8;

type LogRow = { task_run_id: string; seq: number; at: number; stream: 'stdout' | 'stderr'; line: string };

function toLogRecord(row: LogRow): LogRecord {
  return { taskRunId: row.task_run_id, seq: row.seq, at: row.at, stream: row.stream, line: row.line };
}

/** `LogStore` over Kysely: one transaction per append, one insert per 1000 lines. */
export class KyselyLogStore implements LogStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Throws `NotFoundError` for an unknown task run (also when `lines` is empty). */
  append(
    taskRunId: string,
    lines: readonly { at: number; stream: 'stdout' | 'stderr'; line: string }[],
  ): Promise<number> {
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        await assertHoldsTask(trx, this.#ctx, taskRunId);
        const last = await reserveSeq(trx, 'log_seq', taskRunId, lines.length, this.#ctx.dialect);
        const first = last - lines.length + 1;
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
            await trx.executeQuery(
              compiledOnce(
                this.#ctx.dialect,
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
          } else {
            await trx.insertInto('logs').values(rows).execute();
          }
          offset += batch.length;
        }
        return last;
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
