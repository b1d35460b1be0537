import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { routes } from '@pilotage/api';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses, invalidFields } from '../error-reply.js';
import { decodeCursor, encodeCursor } from '../page-cursor.js';
import { mustGetRun, mustGetTask } from '../run-lookup.js';
import { statusInfo, transitionInfo } from '../run-views.js';

const { taskStatuses, runTransitions } = routes;

/**
 * A run's history by pages: a task run's TASK_STATUS reports (by seq, forwards or back from the
 * newest) and the transitions of the run and its task runs (by cursor). The run detail carries
 * only the latest of each, so neither answer grows with a component's chattiness.
 */
export const runHistoryRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { store } = deps;

  app.get(
    '/runs/:id/tasks/:taskRunId/statuses',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: "A page of a task run's TASK_STATUS reports, oldest first",
        description:
          'With `after` (default 0): the `limit` first reports whose seq is above it; the next page is `after` = the last seq answered. With `before`: the `limit` latest ones below it (`before` = `statusCount` + 1 for the newest), to page back. `dropped` counts the reports past the status caps, which were not stored.',
        params: taskStatuses.params,
        querystring: taskStatuses.querystring,
        response: { ...taskStatuses.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const task = await mustGetTask(store, request.params.id, request.params.taskRunId);
      const { after, before, limit = 100 } = request.query;
      if (after !== undefined && before !== undefined) {
        throw invalidFields([{ field: 'querystring.before', message: 'give after or before, not both' }]);
      }
      const statuses = await store.statuses.read(task.id, {
        ...(after === undefined ? {} : { after }),
        ...(before === undefined ? {} : { before }),
        limit,
      });
      return {
        statuses: statuses.map(statusInfo),
        statusCount: task.statusCount,
        dropped: task.dropped.statuses,
        taskState: task.state,
      };
    },
  );

  app.get(
    '/runs/:id/transitions',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'A page of the state changes of a run and of its task runs, oldest first',
        description:
          "`task` keeps one task run's (or, with the run's id, the run's own). Pass `nextCursor` as `cursor` for the next page; it is null on the last one.",
        params: runTransitions.params,
        querystring: runTransitions.querystring,
        response: { ...runTransitions.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const run = await mustGetRun(store, request.params.id);
      const { task, cursor, limit = 200 } = request.query;
      if (task !== undefined && task !== run.id) await mustGetTask(store, run.id, task);
      const after = cursor === undefined ? undefined : Number(decodeCursor('transitions', cursor));
      if (after !== undefined && !Number.isSafeInteger(after)) {
        throw invalidFields([{ field: 'querystring.cursor', message: 'is not a cursor this server gave' }]);
      }
      const page = await store.transitions.page(run.id, {
        ...(task === undefined ? {} : { entityId: task }),
        ...(after === undefined ? {} : { after }),
        limit,
      });
      return {
        transitions: page.transitions.map((t) => ({ ...transitionInfo(t), entityId: t.entityId })),
        nextCursor: page.next === null ? null : encodeCursor('transitions', String(page.next)),
      };
    },
  );
};
