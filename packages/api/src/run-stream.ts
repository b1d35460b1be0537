import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Millis } from './common.js';
import { LogLineInfo, RunInfo, StageOutline, StatusInfo, TaskRunInfo, TaskRunStateSchema } from './runs.js';

/**
 * The Server-Sent Events of the live-update streams: each stream's event names and the JSON of
 * their `data`. `id:` is set on log lines (their seq), so a reconnecting client resumes with
 * `Last-Event-ID`.
 */

/** Events of `GET /v1/runs/:id/events`, in the order a client sees them. */
export const RunStreamEvents = {
  /** first, always: the run, its whole planned graph and every task run so far */
  snapshot: Type.Object({ run: RunInfo, stages: StageOutline, tasks: Type.Array(TaskRunInfo) }),
  /** the run changed state */
  run: Type.Object({ run: RunInfo }),
  /** a task run was created or changed (state, output, message, facts) */
  task: Type.Object({ task: TaskRunInfo }),
  /** an interim TASK_STATUS report */
  status: Type.Object({ task: TaskRunInfo, status: StatusInfo }),
  /** a component callback was refused (out of sequence, bad body) */
  refused: Type.Object({
    taskRunId: Type.String(),
    runId: Type.String(),
    step: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    message: Type.String(),
    at: Millis,
  }),
  /** last: the run has ended; the server closes the stream */
  end: Type.Object({ run: RunInfo }),
} as const;

/** Events of `GET /v1/runs/events`: every run's changes, whichever replica made them. */
export const RunsStreamEvents = {
  /** a run was created or changed (state, reason, owner, outputs): the run as it is now */
  run: Type.Object({ run: RunInfo }),
  /** changes may have been missed (a replica lost its notification connection): read the list again */
  resync: Type.Object({}),
} as const;

/** Events of `GET /v1/runs/:id/tasks/:taskRunId/logs/stream`. */
export const LogStreamEvents = {
  /** one line; the event id is its seq */
  log: LogLineInfo,
  /** last: the task run has ended and every line was sent */
  end: Type.Object({ state: TaskRunStateSchema, lastSeq: Type.Integer() }),
} as const;

/** The events of a stream as a tagged union: `{event: 'task', data: {task}}`. */
export type StreamEvent<E extends Readonly<Record<string, TSchema>>> = {
  [K in keyof E & string]: { readonly event: K; readonly data: Static<E[K]> };
}[keyof E & string];

export type RunStreamEvent = StreamEvent<typeof RunStreamEvents>;
export type LogStreamEvent = StreamEvent<typeof LogStreamEvents>;
export type RunsStreamEvent = StreamEvent<typeof RunsStreamEvents>;

/**
 * The OpenAPI description of a `text/event-stream` answer whose events are `events`: the body
 * is text, and `itemSchema` (OpenAPI 3.2's way to describe a stream's items, also given as the
 * `x-sse-events` extension for 3.1 readers) lists each event's name and `data`.
 */
export function eventStreamContent(events: Readonly<Record<string, TSchema>>) {
  const items = Object.entries(events).map(([name, data]) =>
    Type.Object(
      { event: Type.Literal(name), id: Type.Optional(Type.String()), data },
      { title: `${name} event`, description: data.description },
    ),
  );
  return {
    'text/event-stream': {
      schema: { type: 'string', description: 'Server-Sent Events; `data` is one line of JSON' },
      itemSchema: { oneOf: items },
      'x-sse-events': Object.fromEntries(Object.entries(events).map(([name, data]) => [name, data])),
    },
  };
}
