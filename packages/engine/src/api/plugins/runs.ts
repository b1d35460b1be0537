import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { routes } from '@pilotage/api';
import type { Static } from '@sinclair/typebox';
import { ConflictError } from '../../domain/errors.js';
import { isRunEnded } from '../../domain/states.js';
import type { JsonObject, JsonSchema } from '../../domain/vocabulary.js';
import { assertRerunnable, reusableResults } from '../../engine/reuse.js';
import type { Plan } from '../../plan/types.js';
import type { RunRecord, Store, WorkflowRecord } from '../../store/types.js';
import type { ApiDeps } from '../api-deps.js';
import { emptyBodyAsObject } from '../empty-body.js';
import { decodeCursor, encodeCursor } from '../page-cursor.js';
import { errorResponses, invalidFields } from '../error-reply.js';
import { runDataFromBody } from '../run-data.js';
import { seesServerInternals } from '../server-internals.js';
import { traceParentOf } from '../trace-parent.js';
import { rerunWorkspaceFrom } from '../../service/rerun-workspace.js';
import { mustGetRun, mustGetTask } from '../run-lookup.js';
import { DETAIL_STATUSES, DETAIL_TRANSITIONS, runDetail } from '../run-detail.js';
import { logLineInfo, runInfo } from '../run-views.js';

const { startRun, listRuns, getRun, taskLogs, cancelRun, rerun } = routes;

/**
 * Runs: start one of a stored workflow, list, get with every attempt, read logs, cancel, rerun
 * (from the failed action, reusing what succeeded, or from the start). Live updates are in
 * run-events.ts.
 */
export const runRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { store } = deps;

  app.post(
    '/workflows/:name/runs',
    {
      config: { scope: 'run' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['runs'],
        summary: 'Start a run of a stored workflow',
        description: "The event data is checked against the workflow's `inputs`; the trigger is recorded as manual.",
        params: startRun.params,
        body: startRun.body,
        response: { ...startRun.response, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const body: Static<typeof startRun.body> = request.body;
      const { record, plan } = await storedPlan(store, name, body.version);
      const data = runDataFromBody(
        plan?.inputs as JsonSchema | undefined,
        body.data as JsonObject | undefined,
        body.inputs,
      );
      const run = await deps.starter.start({
        workflow: name,
        ...(body.version === undefined ? {} : { version: body.version }),
        data,
        trigger: { kind: 'manual', by: request.principal?.name ?? 'unknown' },
        ...traceParentOf(request.headers),
        ...(record === undefined ? {} : { record }),
      });
      return reply.code(201).send(runInfo(run));
    },
  );

  app.get(
    '/runs',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'List runs, newest first',
        querystring: listRuns.querystring,
        response: { ...listRuns.response, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const q = request.query;
      // Ajv fills the defaults; `??` restates them for the type checker
      const limit = q.limit ?? 50;
      const createdAfter = q.createdAfter === undefined ? undefined : parseTime(q.createdAfter, 'createdAfter');
      const createdBefore = q.createdBefore === undefined ? undefined : parseTime(q.createdBefore, 'createdBefore');
      const before = q.cursor === undefined ? undefined : decodeCursor('runs', q.cursor);
      const page = await store.runs.list({
        ...(q.workflow === undefined ? {} : { workflow: q.workflow }),
        ...(q.state === undefined ? {} : { state: q.state }),
        ...(q.trigger === undefined ? {} : { triggerKind: q.trigger }),
        ...(createdAfter === undefined ? {} : { createdAfter }),
        ...(createdBefore === undefined ? {} : { createdBefore }),
        ...(before === undefined ? {} : { before }),
        ...(q.parent === undefined ? {} : { parentRunId: q.parent }),
        limit: limit + 1,
      });
      const runs = page.slice(0, limit);
      const last = runs.at(-1);
      return {
        runs: runs.map(runInfo),
        nextCursor: page.length > limit && last !== undefined ? encodeCursor('runs', last.id) : null,
      };
    },
  );

  app.get(
    '/runs/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'A run with every task run and attempt, its latest statuses and transitions, and outputs',
        description:
          'Each attempt carries its latest statuses and transitions (`statuses`, `transitions` of the query) and their counts; page the rest with `/tasks/:taskRunId/statuses` and `/transitions`, so the answer stays bounded however much a component reported.',
        params: getRun.params,
        querystring: getRun.querystring,
        response: { ...getRun.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) =>
      runDetail(store, await mustGetRun(store, request.params.id), seesServerInternals(request), {
        statuses: request.query.statuses ?? DETAIL_STATUSES,
        transitions: request.query.transitions ?? DETAIL_TRANSITIONS,
      }),
  );

  app.get(
    '/runs/:id/tasks/:taskRunId/logs',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: "A page of a task run's log (secrets masked)",
        description: 'Follow a running task with `/logs/stream` (SSE) instead of polling.',
        params: taskLogs.params,
        querystring: taskLogs.querystring,
        response: { ...taskLogs.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const task = await mustGetTask(store, request.params.id, request.params.taskRunId);
      const { after = 0, limit = 1000, tail } = request.query;
      const lines =
        tail === undefined ? await store.logs.read(task.id, after, limit) : await store.logs.tail(task.id, tail);
      return {
        lines: lines.map(logLineInfo),
        lastSeq: lines.at(-1)?.seq ?? after,
        taskState: task.state,
      };
    },
  );

  app.post(
    '/runs/:id/cancel',
    {
      config: { scope: 'run' },
      schema: {
        tags: ['runs'],
        summary: 'Cancel a run',
        description:
          'Running components are stopped and nothing more starts, whichever replica carries the run (the cancel is recorded in the store and its holder acts on it); answers at once with the run (it ends `cancelled` shortly after).',
        params: cancelRun.params,
        response: { ...cancelRun.response, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const run = await mustGetRun(store, request.params.id);
      if (isRunEnded(run.state)) throw new ConflictError(`run ${run.id} has already ended (${run.state})`);
      await deps.engine.cancelRun(run.id, `cancelled by ${request.principal?.name ?? 'unknown'}`);
      return reply.code(202).send(runInfo((await store.runs.get(run.id)) ?? run));
    },
  );

  app.post(
    '/runs/:id/rerun',
    {
      config: { scope: 'run' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['runs'],
        summary: 'Rerun an ended run: from the failed action (reusing what succeeded) or from the start',
        description:
          'A new run of the same workflow version with the same inputs. With `from: failed` (the default) the actions that succeeded are not run again: their outputs are reused (task runs `succeeded` with reason "reused from run …"); the failed, errored, cancelled or skipped ones and every later stage run. The trigger is recorded as `rerun` with `details: {of, from}`. From the failed action, the rerun starts from a copy of the earlier run\'s kept workspace (kept for the `workspaceRetention` setting, 24h by default, after a run that did not succeed ends), so the files of the reused actions are there; when that workspace expired, the rerun is refused (409, code `WORKSPACE_EXPIRED`) unless `emptyWorkspace` is true. From the start, the workspace is empty.',
        params: rerun.params,
        body: rerun.body,
        response: { ...rerun.response, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const old = await mustGetRun(store, request.params.id);
      const from = request.body.from ?? 'failed';
      assertRerunnable(old, from);
      const version = await rerunnableVersion(store, old);
      const reuse = reusableResults(await store.taskRuns.listByRun(old.id), from);
      const workspaceFrom = rerunWorkspaceFrom(old, {
        from,
        reused: reuse.size,
        emptyWorkspace: request.body.emptyWorkspace === true,
      });
      const run = await deps.starter.start({
        workflow: old.workflow,
        version,
        data: await deps.engine.inputsOf(old),
        trigger: { kind: 'rerun', by: request.principal?.name ?? 'unknown', details: { of: old.id, from } },
        reuse,
        ...(workspaceFrom === undefined ? {} : { workspaceFrom }),
        ...traceParentOf(request.headers),
      });
      return reply.code(201).send(runInfo(run));
    },
  );
};

/** A stored workflow's record and the plan of its version `version` (default latest), if they exist. */
async function storedPlan(
  store: Store,
  name: string,
  version: number | undefined,
): Promise<{ readonly record?: WorkflowRecord; readonly plan?: Plan }> {
  const record = await store.workflows.get(name);
  if (record === undefined) return {};
  const stored = await store.workflows.getVersion(name, version ?? record.latestVersion);
  return stored === undefined ? { record } : { record, plan: stored.plan as unknown as Plan };
}

/** The stored workflow version an ended run ran; ConflictError when it was not one stored here. */
async function rerunnableVersion(store: Store, run: RunRecord): Promise<number> {
  const version = Number(run.workflowVersion);
  const local =
    run.trigger.kind === 'cli' ||
    run.workflowVersion === null ||
    !Number.isInteger(version) ||
    (await store.workflows.getVersion(run.workflow, version)) === undefined;
  if (local) {
    throw new ConflictError(
      `run ${run.id} was not started from a workflow stored on this server (pilotage run FILE runs it locally); retry it on its store (pilotage runs retry ${run.id} --db …), run the file again, or apply it (pilotage workflow apply) and start it here`,
    );
  }
  return version;
}

function parseTime(text: string, name: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw invalidFields([
      { field: `querystring.${name}`, message: `must be an ISO 8601 time or epoch ms, got "${text}"` },
    ]);
  }
  return ms;
}
