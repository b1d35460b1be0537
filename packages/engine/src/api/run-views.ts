import { Type, type Static } from '@sinclair/typebox';
import { RUN_STATES, TASK_RUN_STATES } from '../domain/states.js';
import { CALL_COMPONENT_PREFIX } from '../plan/compile-uses.js';
import { planOutline } from '../plan/outline.js';
import type { Plan } from '../plan/types.js';
import type { LogRecord, RunRecord, StatusRecord, TaskRunRecord, TransitionRecord } from '../store/types.js';
import { taskRunWithoutInternals } from './server-internals.js';

/**
 * How runs, task runs, statuses, transitions and log lines look in API answers and SSE events,
 * as TypeBox schemas (validation, serialization and the OpenAPI document) and the functions that
 * build them from store records. A run is shown without its compiled plan (large, internal) but
 * with its stage outline; a task run without its callback token hash.
 */

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const Millis = Type.Integer({ description: 'epoch ms' });
const NullableMillis = Type.Union([Millis, Type.Null()]);
const JsonObjectSchema = Type.Record(Type.String(), Type.Unknown());

/** The kinds of trigger a run may record. */
export const TRIGGER_KINDS = ['manual', 'cli', 'webhook', 'cdevent', 'cron', 'rerun', 'call'] as const;

export const RunStateSchema = Type.Union(RUN_STATES.map((s) => Type.Literal(s)));
export const TaskRunStateSchema = Type.Union(TASK_RUN_STATES.map((s) => Type.Literal(s)));
export const TriggerKindSchema = Type.Union(TRIGGER_KINDS.map((k) => Type.Literal(k)));

/** A run as the API shows it. */
export const RunInfo = Type.Object({
  id: Type.String(),
  number: Type.Integer({ description: '1, 2, 3… per workflow' }),
  workflow: Type.String(),
  workflowVersion: Nullable(Type.String({ description: 'the stored workflow version it runs' })),
  state: RunStateSchema,
  inputs: JsonObjectSchema,
  trigger: Type.Object({
    kind: TriggerKindSchema,
    by: Type.Optional(Type.String()),
    details: Type.Optional(JsonObjectSchema),
  }),
  chainId: Type.String({ description: 'CDEvents chain id' }),
  reason: Nullable(Type.String()),
  owner: Nullable(
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
  concurrencyGroup: Nullable(
    Type.String({ description: 'its concurrency group: at most one run of a group is running at a time' }),
  ),
  createdAt: Millis,
  startedAt: NullableMillis,
  endedAt: NullableMillis,
});
export type RunInfo = Static<typeof RunInfo>;

/** A task run (one attempt of one action) as the API shows it. */
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
  message: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  ref: Nullable(Type.String({ description: 'container or pod name; the pid of a local process (admin tokens only)' })),
  facts: Type.Record(Type.String(), Type.String(), {
    description:
      "what the executor recorded (image digest, warnings); the local process's pid and command for admin tokens only",
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
  childRunId: Nullable(
    Type.String({ description: 'for an action that `uses:` a workflow: the child run this attempt started' }),
  ),
  createdAt: Millis,
  startedAt: NullableMillis,
  endedAt: NullableMillis,
});
export type TaskRunInfo = Static<typeof TaskRunInfo>;

export const TransitionInfo = Type.Object({
  from: Nullable(Type.String()),
  to: Type.String(),
  at: Millis,
  reason: Nullable(Type.String()),
});

export const StatusInfo = Type.Object({
  seq: Type.Integer(),
  at: Millis,
  message: Nullable(Type.String()),
  progress: Type.Union([Type.Number(), Type.Null()]),
  output: Type.Union([JsonObjectSchema, Type.Null()]),
});

export const LogLineInfo = Type.Object({
  seq: Type.Integer({ description: '1-based per task run' }),
  at: Millis,
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]),
  line: Type.String({ description: 'secrets masked' }),
});

/** The stages (then the finally stages) and actions of a run's plan, in order: what a live view draws. */
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
      }),
    ),
  }),
);
export type StageOutline = Static<typeof StageOutline>;

export function runInfo(run: RunRecord): RunInfo {
  return {
    id: run.id,
    number: run.number,
    workflow: run.workflow,
    workflowVersion: run.workflowVersion,
    state: run.state,
    inputs: run.inputs,
    trigger: run.trigger,
    chainId: run.chainId,
    reason: run.reason,
    owner: run.owner,
    outputs: run.outputs,
    parent: run.parent,
    concurrencyGroup: run.concurrencyGroup,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

/**
 * A task run as the API shows it: never its token hash; its pid and server paths only when
 * `internals` (an admin token: see server-internals.ts).
 */
export function taskRunInfo(task: TaskRunRecord, internals = false): TaskRunInfo {
  const { tokenHash: _hidden, ...shown } = internals ? task : taskRunWithoutInternals(task);
  const childRunId = task.component.startsWith(CALL_COMPONENT_PREFIX) ? task.ref : null;
  return { ...shown, steps: { ...shown.steps } as Record<string, number>, childRunId };
}

export function transitionInfo(t: TransitionRecord): Static<typeof TransitionInfo> {
  return { from: t.from, to: t.to, at: t.at, reason: t.reason };
}

export function statusInfo(s: StatusRecord): Static<typeof StatusInfo> {
  return { seq: s.seq, at: s.at, message: s.message, progress: s.progress, output: s.output };
}

export function logLineInfo(l: LogRecord): Static<typeof LogLineInfo> {
  return { seq: l.seq, at: l.at, stream: l.stream, line: l.line };
}

/** The stage outline of a run, from the plan it recorded. */
export function stageOutline(run: RunRecord): StageOutline {
  return planOutline(run.plan as unknown as Partial<Plan> | null).map((stage) => ({
    ...stage,
    actions: [...stage.actions],
  }));
}
