import { Type, type Static } from '@sinclair/typebox';
import { JsonObjectSchema, Millis, NullableMillis, nullable } from './common.js';

/** Runs, task runs and what their components report, as the API shows them. */

/** States of a run: queued → running → succeeded | failed | errored | cancelled. */
export const RUN_STATE_NAMES = ['queued', 'running', 'succeeded', 'failed', 'errored', 'cancelled'] as const;
/** States of a task run (one attempt of one action). */
export const TASK_RUN_STATE_NAMES = [
  'pending',
  'starting',
  'running',
  'succeeded',
  'failed',
  'errored',
  'cancelled',
  'skipped',
] as const;
/** The kinds of trigger a run may record. */
export const TRIGGER_KINDS = ['manual', 'cli', 'webhook', 'cdevent', 'cron', 'rerun', 'call'] as const;

export const RunStateSchema = Type.Union(RUN_STATE_NAMES.map((s) => Type.Literal(s)));
export const TaskRunStateSchema = Type.Union(TASK_RUN_STATE_NAMES.map((s) => Type.Literal(s)));
export const TriggerKindSchema = Type.Union(TRIGGER_KINDS.map((k) => Type.Literal(k)));
export type RunStateName = Static<typeof RunStateSchema>;
export type TaskRunStateName = Static<typeof TaskRunStateSchema>;
export type TriggerKind = Static<typeof TriggerKindSchema>;

/** A run as the API shows it (without its compiled plan: see `stages` of the run detail). */
export const RunInfo = Type.Object({
  id: Type.String(),
  number: Type.Integer({ description: '1, 2, 3… per workflow' }),
  workflow: Type.String(),
  workflowVersion: nullable(Type.String({ description: 'the stored workflow version it runs' })),
  state: RunStateSchema,
  inputs: JsonObjectSchema,
  trigger: Type.Object({
    kind: TriggerKindSchema,
    by: Type.Optional(Type.String()),
    details: Type.Optional(JsonObjectSchema),
  }),
  chainId: Type.String({ description: 'CDEvents chain id' }),
  reason: nullable(Type.String()),
  owner: nullable(
    Type.String({
      description:
        'the replica carrying the run (see GET /v1/replicas); null while queued and unclaimed, or let go; once ended, the replica that ended it',
    }),
  ),
  outputs: Type.Union([JsonObjectSchema, Type.Null()], {
    description: "the workflow's declared outputs, once the run ended (null before, or when none are declared)",
  }),
  parent: Type.Union(
    [
      Type.Object({
        runId: Type.String({ description: 'the calling run' }),
        taskRunId: Type.String({ description: 'the task run of the action that `uses:` this workflow' }),
      }),
      Type.Null(),
    ],
    { description: 'for a child run (trigger `call`): the run and task run that called it; null otherwise' },
  ),
  concurrencyGroup: nullable(
    Type.String({ description: 'its concurrency group: at most one run of a group is running at a time' }),
  ),
  workspace: Type.Optional(
    Type.Object(
      {
        from: nullable(
          Type.String({ description: 'the run whose kept workspace this one started as a copy of (a rerun)' }),
        ),
        state: Type.Union([Type.Literal('kept'), Type.Literal('expired'), Type.Null()], {
          description:
            'null while the run goes on, or when its workspace was removed as it ended; kept: left for a rerun (until expiresAt); expired: removed by the cleanup job',
        }),
        expiresAt: Type.Union([Type.Integer(), Type.Null()], {
          description: 'when a kept workspace expires, epoch ms; null: kept until removed by hand (keepWorkspace)',
        }),
      },
      { description: "what is left of the run's workspace" },
    ),
  ),
  createdAt: Millis,
  startedAt: NullableMillis,
  endedAt: NullableMillis,
});
export type RunInfo = Static<typeof RunInfo>;

/** A task run (one attempt of one action) as the API shows it (never its callback token). */
export const TaskRunInfo = Type.Object({
  id: Type.String(),
  runId: Type.String(),
  stage: Type.String(),
  action: Type.String(),
  attempt: Type.Integer(),
  state: TaskRunStateSchema,
  component: Type.String({ description: 'name@version' }),
  executor: Type.String(),
  eventData: Type.Unknown({ description: 'the rendered event data (CO_DATA)' }),
  output: JsonObjectSchema,
  result: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Null()]),
  message: nullable(Type.String()),
  reason: nullable(Type.String()),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  ref: nullable(Type.String({ description: 'container or pod name; the pid of a local process (admin tokens only)' })),
  facts: Type.Record(Type.String(), Type.String(), {
    description:
      "what the executor recorded: image digest, pod, node, warnings (keys depend on the executor); the local process's pid and command for admin tokens only",
  }),
  steps: Type.Record(Type.String(), Type.Integer(), { description: 'contract step → first seen, epoch ms' }),
  matrix: Type.Union(
    [
      Type.Object({
        action: Type.String({ description: 'the matrix action (the plan action) this combination belongs to' }),
        index: Type.Integer({ description: "the combination's 0-based place in the expansion" }),
        values: JsonObjectSchema,
      }),
      Type.Null(),
    ],
    { description: 'its combination, when its action has a matrix; null otherwise' },
  ),
  childRunId: nullable(
    Type.String({ description: 'for an action that `uses:` a workflow: the child run this attempt started' }),
  ),
  statusCount: Type.Integer({
    description: 'TASK_STATUS reports stored (seqs 1..statusCount); page them with GET …/statuses',
  }),
  dropped: Type.Object(
    {
      statuses: Type.Integer({ description: 'TASK_STATUS reports not stored past the status caps' }),
      logLines: Type.Integer({ description: 'log lines not stored past the log cap' }),
      logBytes: Type.Integer({ description: 'their bytes (UTF-8, newlines included)' }),
    },
    {
      description:
        'what the per task run caps dropped (all 0 while under them; docs/configuration.md, per task run limits); the first drop of each kind also wrote one notice line into the log',
    },
  ),
  createdAt: Millis,
  startedAt: NullableMillis,
  endedAt: NullableMillis,
});
export type TaskRunInfo = Static<typeof TaskRunInfo>;

/** A recorded state change of a run or task run. */
export const TransitionInfo = Type.Object({
  from: nullable(Type.String()),
  to: Type.String(),
  at: Millis,
  reason: nullable(Type.String()),
});
export type TransitionInfo = Static<typeof TransitionInfo>;

/** A transition in a page of a run's transitions: which entity (the run, or one of its task runs) changed. */
export const RunTransitionInfo = Type.Object({
  ...TransitionInfo.properties,
  entityId: Type.String({ description: "the run's id, or a task run's" }),
});
export type RunTransitionInfo = Static<typeof RunTransitionInfo>;

/** One TASK_STATUS report. */
export const StatusInfo = Type.Object({
  seq: Type.Integer(),
  at: Millis,
  message: nullable(Type.String()),
  progress: Type.Union([Type.Number(), Type.Null()]),
  output: Type.Union([JsonObjectSchema, Type.Null()]),
});
export type StatusInfo = Static<typeof StatusInfo>;

/** One log line of a task run. */
export const LogLineInfo = Type.Object({
  seq: Type.Integer({ description: '1-based per task run' }),
  at: Millis,
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]),
  line: Type.String({ description: 'secrets masked' }),
});
export type LogLineInfo = Static<typeof LogLineInfo>;

/**
 * The stages (then the finally stages) and actions of a run's plan, in order: what a live view
 * draws before anything starts.
 */
export const StageOutline = Type.Array(
  Type.Object({
    name: Type.String(),
    type: Type.Union([Type.Literal('actions'), Type.Literal('approval')]),
    finally: Type.Boolean({ description: 'a finally stage: runs after the others, however they ended' }),
    actions: Type.Array(
      Type.Object({
        name: Type.String(),
        matrix: Type.Boolean({
          description: 'one task run per combination, named `name (v1, v2)`, each with `matrix.action` = name',
        }),
        uses: Type.Union([Type.String(), Type.Null()], {
          description: 'the workflow it calls as a child run (`uses:` as written)',
        }),
        component: Type.Optional(Type.String({ description: 'name@version' })),
        needs: Type.Optional(Type.Array(Type.String(), { description: 'earlier actions it reads outputs of' })),
        if: Type.Optional(Type.String({ description: 'its condition, as written' })),
      }),
    ),
  }),
);
export type StageOutline = Static<typeof StageOutline>;

/** An attempt in a run detail: the task run with its latest transitions and interim statuses. */
export const AttemptInfo = Type.Object({
  ...TaskRunInfo.properties,
  transitions: Type.Array(TransitionInfo, {
    description: 'its latest transitions (`transitions` of the query), oldest first; all: GET /v1/runs/:id/transitions',
  }),
  transitionCount: Type.Integer({ description: 'how many transitions it has in all' }),
  statuses: Type.Array(StatusInfo, {
    description:
      'its latest TASK_STATUS reports (`statuses` of the query), oldest first; the others: GET …/tasks/:taskRunId/statuses',
  }),
});
export type AttemptInfo = Static<typeof AttemptInfo>;

/**
 * `GET /v1/runs/:id`: a run with every attempt of every action, read in a bounded number of
 * queries, each attempt with only its latest statuses and transitions (the rest are paged).
 */
export const RunDetail = Type.Object({
  run: RunInfo,
  stages: StageOutline,
  actions: Type.Array(
    Type.Object({
      name: Type.String(),
      stage: Type.String(),
      state: Type.Union([TaskRunStateSchema, Type.Null()], {
        description: 'of the last attempt; null: not reached yet',
      }),
      attempts: Type.Array(AttemptInfo),
    }),
  ),
  transitions: Type.Array(TransitionInfo, {
    description: "the run's latest transitions (`transitions` of the query), oldest first",
  }),
  transitionCount: Type.Integer({ description: 'how many transitions the run itself has in all' }),
  outputs: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()), {
    description: 'action → output of its last attempt',
  }),
});
export type RunDetail = Static<typeof RunDetail>;

/** Body of `POST /v1/workflows/:name/runs`. */
export const StartRunBody = Type.Object(
  {
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'the event data (JSON object)' })),
    inputs: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          'name → text pairs over `data` (as `--input name=value` gives them); parsed as JSON where the inputs schema declares a non-string type',
      }),
    ),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'a stored version; default the latest' })),
  },
  { additionalProperties: false },
);

/** Query of `GET /v1/runs`. */
export const ListRunsQuery = Type.Object(
  {
    workflow: Type.Optional(Type.String({ minLength: 1 })),
    state: Type.Optional(RunStateSchema),
    trigger: Type.Optional(TriggerKindSchema),
    createdAfter: Type.Optional(Type.String({ description: 'ISO 8601 time or epoch ms; inclusive' })),
    createdBefore: Type.Optional(Type.String({ description: 'ISO 8601 time or epoch ms; exclusive' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
    parent: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'only the child runs this run called (actions that `uses:` a workflow)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** A page of runs, newest first. */
export const RunPage = Type.Object({
  runs: Type.Array(RunInfo),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
});

/** Query of `GET /v1/runs/:id/tasks/:taskRunId/logs`. */
export const LogsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'lines with seq > after' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000 })),
    tail: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, description: 'the last N lines instead' })),
  },
  { additionalProperties: false },
);

/** Query of `GET /v1/runs/:id`: how much history of each attempt it carries. */
export const RunDetailQuery = Type.Object(
  {
    statuses: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: 20,
        description: 'the latest N TASK_STATUS reports of each attempt',
      }),
    ),
    transitions: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: 50,
        description: 'the latest N transitions of the run and of each attempt',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Query of `GET /v1/runs/:id/tasks/:taskRunId/statuses`: a cursor (a seq) and a page size. */
export const StatusesQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'the reports with seq > after, oldest first' })),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'the latest reports with seq < before instead (paging back from the newest)',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

/** A page of a task run's TASK_STATUS reports, oldest first. */
export const StatusPage = Type.Object({
  statuses: Type.Array(StatusInfo),
  statusCount: Type.Integer({ description: 'reports stored in all' }),
  dropped: Type.Integer({ description: 'reports not stored past the status caps' }),
  taskState: TaskRunStateSchema,
});
export type StatusPage = Static<typeof StatusPage>;

/** Query of `GET /v1/runs/:id/transitions`. */
export const TransitionsQuery = Type.Object(
  {
    task: Type.Optional(
      Type.String({ minLength: 1, description: "only this task run's (or the run's own, by its id)" }),
    ),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  { additionalProperties: false },
);

/** A page of the transitions of a run and its task runs, oldest first. */
export const TransitionPage = Type.Object({
  transitions: Type.Array(RunTransitionInfo),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
});
export type TransitionPage = Static<typeof TransitionPage>;

/** A page of a task run's log. */
export const LogPage = Type.Object({
  lines: Type.Array(LogLineInfo),
  lastSeq: Type.Integer({ description: 'seq of the last line answered (or `after`): the next `after`' }),
  taskState: TaskRunStateSchema,
});
export type LogPage = Static<typeof LogPage>;

/** Body of `POST /v1/runs/:id/rerun`. */
export const RerunBody = Type.Object(
  {
    from: Type.Optional(
      Type.Union([Type.Literal('failed'), Type.Literal('start')], {
        default: 'failed',
        description: 'failed: reuse what succeeded, run the rest; start: run everything again',
      }),
    ),
    emptyWorkspace: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "run with an empty workspace instead of a copy of the earlier run's kept one; needed to rerun from the failed action once that workspace expired (otherwise 409 WORKSPACE_EXPIRED)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const RunParams = Type.Object({ id: Type.String({ minLength: 1 }) });
export const TaskParams = Type.Object({
  id: Type.String({ minLength: 1 }),
  taskRunId: Type.String({ minLength: 1 }),
});
