import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eventStreamContent, routes, type RouteSpec } from '@pilotage/api';
import { isRunEnded, isTaskEnded, type RunState, type TaskRunState } from '../../domain/states.js';
import type { EngineUpdate } from '../../engine/ports.js';
import type { RunRecord } from '../../store/types.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses, invalidFields } from '../error-reply.js';
import { mustGetRun, mustGetTask } from '../run-lookup.js';
import { logLineInfo, runInfo, stageOutline, statusInfo, taskRunInfo } from '../run-views.js';
import { seesServerInternals } from '../server-internals.js';
import { followRun, followRuns } from '../run-follow.js';
import { openSse } from '../sse.js';

/** Log lines read from the store per query while following a log. */
const LOG_PAGE = 500;
/** While a task runs, how often the store is read even without a wake-up, ms. */
const LOG_POLL_MS = 1000;
/**
 * Most runs a run-list stream reads again at each heartbeat: the latest unfinished ones it showed,
 * and the latest created since it opened.
 */
const LIST_CATCH_UP = 100;
/** Runs a run-list stream remembers having sent (the latest), so a heartbeat sends none twice. */
const LIST_SENT_MEMORY = 1000;
/**
 * How far before a run-list stream opened a run may have been created and still be one it must
 * show, ms: another replica's clock may be this far behind (what was created earlier is in the
 * `GET /v1/runs` a client reads after opening the stream).
 */
const LIST_CLOCK_SKEW_MS = 60_000;
/** After a `log` update, how long to wait for the log buffer's batch to reach the store, ms. */
const LOG_FLUSH_WAIT_MS = 150;

const { runsEvents, runEvents, taskLogStream } = routes;

/** The answers of a streaming route: its events (described in the OpenAPI document), or an error. */
function eventStream(spec: RouteSpec) {
  return {
    200: { description: 'text/event-stream', content: eventStreamContent(spec.events ?? {}) },
    ...errorResponses(400, 401, 404),
  };
}

/**
 * Server-Sent Events (`text/event-stream`), read scope:
 * - `GET /v1/runs/events`: `run` ({run}) each time any run is created or changes, whichever
 *   replica changed it, and `resync` ({}) when changes may have been missed (read the list
 *   again). No snapshot: a client reads `GET /v1/runs` after the stream opened.
 * - `GET /v1/runs/:id/events`: `snapshot` ({run, stages, tasks}) first, then `run` ({run}),
 *   `task` ({task}), `status` ({task, status}: interim TASK_STATUS) and `refused` (a callback
 *   refused) as they happen, and `end` ({run}) once the run has ended, after which the server
 *   closes the stream. A reconnect gets a fresh snapshot.
 * - `GET /v1/runs/:id/tasks/:taskRunId/logs/stream`: `log` events ({seq, at, stream, line},
 *   event id = seq) from `?after=SEQ` or the `Last-Event-ID` header (which wins: a reconnecting
 *   client resumes where it was), then `end` ({state}) once the task run has ended and every
 *   line was sent.
 * Each sends a `: ping` comment every 15 s; at each, a run's stream reads the run and its task
 * runs again, and the list stream the (latest 100) unfinished runs it showed and the latest 100
 * created since it opened, so that a change whose notification was lost (even a whole run's)
 * shows within 15 s.
 * Log lines and outputs are stored masked already.
 */
export const runEventRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { store, engine } = deps;

  app.get(
    '/runs/events',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'Follow every run live (SSE): runs created and their changes, on any replica',
        response: eventStream(runsEvents),
      },
    },
    (_request, reply) => {
      const sse = openSse<typeof runsEvents.events>(reply, deps.sseHeartbeatMs);
      const openedAt = Date.now();
      /** the runs this stream sent (the latest), with the rank of the state each was sent in, oldest first */
      const sent = new Map<string, number>();
      const send = (run: RunRecord): void => {
        const rank = runStateRank(run.state);
        if (rank < (sent.get(run.id) ?? -1)) return;
        sent.delete(run.id);
        sent.set(run.id, rank);
        if (sent.size > LIST_SENT_MEMORY) sent.delete(sent.keys().next().value as string);
        sse.send('run', { run: runInfo(run) });
      };
      /** `run`, when this stream has not sent it yet, or only in an earlier state */
      const sendIfFurther = (run: RunRecord): void => {
        if (runStateRank(run.state) > (sent.get(run.id) ?? -1)) send(run);
      };
      const unsubscribe = followRuns(deps, (update) => {
        if (update.kind === 'resync') sse.send('resync', {});
        else send(update.run);
      });
      sse.onClose(unsubscribe);
      // safety net, as for one run's stream: a change whose notification was lost (or never sent:
      // its replica died just after the commit) shows at the next heartbeat. The latest unfinished
      // runs the stream showed are read again, and so are the latest runs created since it opened,
      // which shows a run it never heard of at all; only what is further along is sent.
      sse.onHeartbeat(() => {
        void (async () => {
          const unfinished = [...sent].filter(([, rank]) => rank < ENDED_RANK).slice(-LIST_CATCH_UP);
          for (const [id] of unfinished) {
            const run = await store.runs.get(id);
            if (!sse.open) return;
            if (run === undefined) sent.delete(id);
            else sendIfFurther(run);
          }
          const created = await store.runs.list({
            createdAfter: openedAt - LIST_CLOCK_SKEW_MS,
            limit: LIST_CATCH_UP,
          });
          // oldest first, as they happened
          for (const run of created.reverse()) if (sse.open) sendIfFurther(run);
        })().catch(() => undefined);
      });
    },
  );

  app.get(
    '/runs/:id/events',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'Follow a run live (SSE): state changes of the run and its task runs, interim statuses',
        params: runEvents.params,
        response: eventStream(runEvents),
      },
    },
    async (request, reply) => {
      const runId = request.params.id;
      await mustGetRun(store, runId);
      const internals = seesServerInternals(request);
      const taskView = (task: Parameters<typeof taskRunInfo>[0]) => taskRunInfo(task, internals);
      const sse = openSse<typeof runEvents.events>(reply, deps.sseHeartbeatMs);
      // subscribe before reading the snapshot so nothing between the two is lost; what arrives
      // meanwhile is replayed after it, minus what the snapshot already shows as further along
      const buffered: EngineUpdate[] = [];
      let live = false;
      const runRank = { value: -1 };
      const taskRanks = new Map<string, number>();
      const finish = (run: Parameters<typeof runInfo>[0]): void => {
        sse.send('end', { run: runInfo(run) });
        sse.end();
      };
      const deliver = (update: EngineUpdate): void => {
        switch (update.kind) {
          case 'run': {
            const rank = runStateRank(update.run.state);
            if (rank < runRank.value) return;
            runRank.value = rank;
            sse.send('run', { run: runInfo(update.run) });
            if (isRunEnded(update.run.state)) finish(update.run);
            return;
          }
          case 'task': {
            const rank = taskStateRank(update.task.state);
            if (rank < (taskRanks.get(update.task.id) ?? -1)) return;
            taskRanks.set(update.task.id, rank);
            sse.send('task', { task: taskView(update.task) });
            return;
          }
          case 'status':
            sse.send('status', { task: taskView(update.task), status: statusInfo(update.status) });
            return;
          case 'refused': {
            const { kind: _kind, ...refused } = update;
            sse.send('refused', refused);
            return;
          }
          case 'log':
            return;
        }
      };
      // this replica's updates, and those of the replica carrying the run if it is another
      const unsubscribe = followRun(deps, runId, (update) => {
        if (!sse.open) return;
        if (live) deliver(update);
        else buffered.push(update);
      });
      sse.onClose(unsubscribe);
      try {
        const run = await mustGetRun(store, runId);
        const tasks = await store.taskRuns.listByRun(runId);
        runRank.value = runStateRank(run.state);
        for (const task of tasks) taskRanks.set(task.id, taskStateRank(task.state));
        sse.send('snapshot', { run: runInfo(run), stages: stageOutline(run), tasks: tasks.map(taskView) });
        if (isRunEnded(run.state)) return finish(run);
        live = true;
        for (const update of buffered.splice(0)) if (sse.open) deliver(update);
      } catch (err) {
        request.log.warn({ err }, 'run event stream failed');
        sse.end();
        return;
      }
      // safety net: a change missed (another replica's notification lost, or never sent because
      // that replica died just after its commit) is read at the next heartbeat: the run's end,
      // and what its task runs reached (only what is further along is sent)
      sse.onHeartbeat(() => {
        void catchUp().catch(() => undefined);
      });
      const catchUp = async (): Promise<void> => {
        const run = await store.runs.get(runId);
        for (const task of await store.taskRuns.listByRun(runId)) {
          if (sse.open && taskStateRank(task.state) > (taskRanks.get(task.id) ?? -1)) deliver({ kind: 'task', task });
        }
        // an ended run ranks above every state a stream still open has shown
        if (run !== undefined && sse.open && runStateRank(run.state) > runRank.value) {
          deliver({ kind: 'run', run });
        }
      };
    },
  );

  app.get(
    '/runs/:id/tasks/:taskRunId/logs/stream',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: "Follow a task run's log live (SSE), resumable with Last-Event-ID",
        params: taskLogStream.params,
        querystring: taskLogStream.querystring,
        response: eventStream(taskLogStream),
      },
    },
    async (request, reply) => {
      const { id, taskRunId } = request.params;
      const task = await mustGetTask(store, id, taskRunId);
      let seq = resumeFrom(request.headers['last-event-id'], request.query.after ?? 0);
      const sse = openSse<typeof taskLogStream.events>(reply, deps.sseHeartbeatMs);
      // `poked`: something changed since the last read (a wake-up between a read and the wait
      // is not lost); `wake` ends the current wait early
      let poked = false;
      let wake: (() => void) | undefined;
      const poke = (): void => {
        poked = true;
        wake?.();
      };
      let flushTimer: NodeJS.Timeout | undefined;
      const flushSoon = (): void => {
        if (flushTimer !== undefined) return;
        flushTimer = setTimeout(() => {
          flushTimer = undefined;
          poke();
        }, LOG_FLUSH_WAIT_MS);
      };
      const unsubscribe = engine.subscribe((update) => {
        if (update.kind === 'task' && update.task.id === task.id) poke();
        else if (update.kind === 'log' && update.taskRunId === task.id) flushSoon();
      });
      // lines and ends from the replica carrying the run, if it is another (lines are notified
      // as they are read from the component, so the store is read after the buffer's batch)
      const unsubscribeRemote = store.changes.subscribe((change) => {
        if (change.taskRunId === task.id && change.kind === 'log') flushSoon();
        else if ((change.taskRunId === task.id && change.kind === 'task') || change.kind === 'resync') poke();
      });
      sse.onClose(() => {
        unsubscribe();
        unsubscribeRemote();
        clearTimeout(flushTimer);
        poke();
      });
      try {
        while (sse.open) {
          poked = false;
          // the state is read before the lines: a task run's log is complete once it has ended
          const ended = isTaskEnded((await store.taskRuns.get(task.id))?.state ?? 'errored');
          const lines = await store.logs.read(task.id, seq, LOG_PAGE);
          for (const line of lines) {
            sse.send('log', logLineInfo(line), line.seq);
            seq = line.seq;
          }
          if (lines.length === LOG_PAGE) continue;
          if (ended) {
            const final = await store.taskRuns.get(task.id);
            sse.send('end', { state: final?.state ?? 'errored', lastSeq: seq });
            break;
          }
          if (poked) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, LOG_POLL_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      } catch (err) {
        request.log.warn({ err }, 'log stream failed');
      } finally {
        sse.end();
      }
    },
  );
};

/** The rank of every ended state of a run (above `queued` and `running`). */
const ENDED_RANK = 2;

/** Order of run states, so a late-replayed update never shows a run going backwards. */
function runStateRank(state: RunState): number {
  return state === 'queued' ? 0 : state === 'running' ? 1 : ENDED_RANK;
}

function taskStateRank(state: TaskRunState): number {
  return state === 'pending' ? 0 : state === 'starting' ? 1 : state === 'running' ? 2 : 3;
}

/** Where a log stream starts: `Last-Event-ID` (a reconnect) over `?after`. */
function resumeFrom(header: string | string[] | undefined, after: number): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return after;
  if (!/^\d+$/.test(value.trim())) {
    throw invalidFields([
      { field: 'headers.last-event-id', message: `must be the seq of a log line (a number), got "${value}"` },
    ]);
  }
  return Number(value.trim());
}
