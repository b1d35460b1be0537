import { RUN_STATES, isRunEnded } from '../../domain/states.js';
import type { RetentionStore } from '../types.js';
import { chunked } from './chunked.js';
import type { StoreContext } from './store-context.js';

/** Run states that have ended. */
const ENDED = RUN_STATES.filter((state) => isRunEnded(state));
/** Task runs whose log lines one `deleteLogs` call removes, at most, per 100 of `limit`. */
const LOG_TASKS_PER_CALL = 200;

/**
 * `RetentionStore` over Kysely: each call is one short transaction over at most `limit` rows of
 * its kind. Deleting a run cascades (foreign keys) to its task runs, their statuses and log lines;
 * its transitions and outbox events (whose deliveries cascade) are deleted by id.
 */
export class KyselyRetentionStore implements RetentionStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  deleteRuns(before: number, limit: number): Promise<number> {
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        const runs = await trx
          .selectFrom('runs')
          .select('id')
          .where('state', 'in', ENDED)
          .where('ended_at', '<', before)
          .where((eb) =>
            eb.or([
              eb('workspace_state', 'is', null),
              eb('workspace_state', '!=', 'kept'),
              eb('workspace_expires_at', 'is', null),
            ]),
          )
          .orderBy('id')
          .limit(limit)
          .execute();
        const ids = runs.map((r) => r.id);
        if (ids.length === 0) return 0;
        const tasks = await trx.selectFrom('task_runs').select('id').where('run_id', 'in', ids).execute();
        for (const batch of chunked([...ids, ...tasks.map((t) => t.id)], 500)) {
          await trx.deleteFrom('transitions').where('entity_id', 'in', batch).execute();
        }
        await trx.deleteFrom('outbox').where('run_id', 'in', ids).execute();
        await trx.deleteFrom('run_event_seqs').where('run_id', 'in', ids).execute();
        await trx.deleteFrom('runs').where('id', 'in', ids).execute();
        return ids.length;
      }),
    );
  }

  deleteLogs(before: number, limit: number): Promise<number> {
    return this.#ctx.use(async (db) => {
      const tasks = await db
        .selectFrom('task_runs')
        .innerJoin('runs', 'runs.id', 'task_runs.run_id')
        .select('task_runs.id')
        .where('runs.state', 'in', ENDED)
        .where('runs.ended_at', '<', before)
        .where((eb) =>
          eb.exists(eb.selectFrom('logs').select('logs.seq').whereRef('logs.task_run_id', '=', 'task_runs.id')),
        )
        .limit(Math.max(1, Math.min(LOG_TASKS_PER_CALL, limit)))
        .execute();
      if (tasks.length === 0) return 0;
      const result = await db
        .deleteFrom('logs')
        .where(
          'task_run_id',
          'in',
          tasks.map((t) => t.id),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  deleteEvents(before: number, limit: number): Promise<number> {
    return this.#ctx.use(async (db) => {
      const events = await db
        .selectFrom('outbox')
        .select('seq')
        .where('created_at', '<', before)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('deliveries')
                .select('deliveries.event_seq')
                .whereRef('deliveries.event_seq', '=', 'outbox.seq')
                .where('deliveries.state', 'in', ['pending', 'dead']),
            ),
          ),
        )
        .orderBy('seq')
        .limit(limit)
        .execute();
      if (events.length === 0) return 0;
      const result = await db
        .deleteFrom('outbox')
        .where(
          'seq',
          'in',
          events.map((e) => e.seq),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  deleteInbox(before: number, limit: number): Promise<number> {
    return this.#ctx.use(async (db) => {
      const old = await db
        .selectFrom('cdevents_inbox')
        .select(['source', 'id'])
        .where('received_at', '<', before)
        .limit(limit)
        .execute();
      let deleted = 0;
      for (const batch of chunked(old, 200)) {
        const result = await db
          .deleteFrom('cdevents_inbox')
          .where((eb) => eb.or(batch.map(({ source, id }) => eb.and([eb('source', '=', source), eb('id', '=', id)]))))
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
      return deleted;
    });
  }

  expiredWorkspaces(now: number, limit: number): Promise<string[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('runs')
        .select('id')
        .where('workspace_state', '=', 'kept')
        .where('workspace_expires_at', '<=', now)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('runs as rerun')
                .select('rerun.id')
                .whereRef('rerun.workspace_from', '=', 'runs.id')
                .where('rerun.state', 'in', ['queued', 'running']),
            ),
          ),
        )
        .orderBy('workspace_expires_at')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    });
  }

  markWorkspaceExpired(runId: string): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .updateTable('runs')
        .set({ workspace_state: 'expired' })
        .where('id', '=', runId)
        .where('workspace_state', '=', 'kept')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }
}
