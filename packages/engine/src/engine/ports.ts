import type { Outcome } from '../domain/states.js';
import type { TraceContext } from '../domain/trace-context.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { Executor, LogLine } from '../executor/executor.js';
import type { NewOutboxEvent, RunRecord, StatusRecord, TaskRunRecord } from '../store/types.js';

/**
 * What the engine needs from the outside, as narrow ports. Only main.ts (and tests) know the
 * concrete implementations.
 */

/** Builds the outbox rows written with each transition (the CDEvents module implements it). */
export interface RunEventBuilder {
  runQueued(run: RunRecord): NewOutboxEvent[];
  runStarted(run: RunRecord): NewOutboxEvent[];
  runFinished(run: RunRecord, outcome: Outcome, errors: string | null): NewOutboxEvent[];
  taskStarted(run: RunRecord, task: TaskRunRecord): NewOutboxEvent[];
  taskFinished(run: RunRecord, task: TaskRunRecord, outcome: Outcome, errors: string | null): NewOutboxEvent[];
  /** A component-reported CDEvent (CO_CDEVENT), completed and validated; a string is an error. */
  componentEvent?(run: RunRecord, task: TaskRunRecord, event: JsonObject, at: number): NewOutboxEvent | string;
}

/** Writes no events: for tests and for runs without sinks. */
export const NO_EVENTS: RunEventBuilder = {
  runQueued: () => [],
  runStarted: () => [],
  runFinished: () => [],
  taskStarted: () => [],
  taskFinished: () => [],
};

/**
 * Keeps a run's inputs as sent, encrypted, when the stored ones have secrets masked: the engine
 * reads them back to resume the run after a restart and for a rerun; nothing else does. `open`
 * throws when it cannot (another key, a copied row: the run id is bound to the ciphertext).
 */
export interface InputSeal {
  seal(runId: string, inputs: JsonObject): string;
  open(runId: string, sealed: string): JsonObject;
}

/**
 * The id a task run's event data is sealed under with the run's InputSeal (`{data}` sealed, so
 * any JSON value fits): distinct from every run id a run's inputs are sealed under.
 */
export function eventDataSealId(taskRunId: string): string {
  return `${taskRunId}/event-data`;
}

/** Finds the executor for a name (`local`, `docker`, `kubernetes`). */
export interface ExecutorSet {
  /** the executor used when neither the workflow nor the action names one */
  readonly defaultName: string;
  get(name: string): Executor;
  all(): Executor[];
}

/**
 * POSTs a component's event data to its endpoint (protocol/endpoint-push.ts, over HTTP),
 * retrying while the port is not open yet. Rejects with the reason when it cannot, or when
 * `signal` aborts.
 */
export type EventDataPush = (url: string, data: JsonValue, signal: AbortSignal) => Promise<void>;

/** A live update, for the CLI's tree and the server's SSE streams. */
export type EngineUpdate =
  | { readonly kind: 'run'; readonly run: RunRecord }
  | { readonly kind: 'task'; readonly task: TaskRunRecord }
  | { readonly kind: 'status'; readonly task: TaskRunRecord; readonly status: StatusRecord }
  | { readonly kind: 'log'; readonly taskRunId: string; readonly runId: string; readonly line: LogLine }
  | {
      readonly kind: 'refused';
      readonly taskRunId: string;
      readonly runId: string;
      readonly step: string;
      readonly status: number;
      readonly code: string;
      readonly message: string;
      readonly at: number;
    };

/** Called after events were written, so the delivery worker can send them now. */
export type EventsWritten = () => void;

/** Values a span's attributes may hold (undefined ones are left out). */
export type TraceAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * One span of a trace: a run, a stage, an action, an attempt or an executor's step. Every method
 * is cheap and safe to call after `end` (it is then ignored); none throws.
 */
export interface TraceSpan {
  /** this span's W3C trace context, handed to components as TRACEPARENT; undefined when not traced */
  readonly context: TraceContext | undefined;
  /** a span inside this one, started now */
  child(name: string, attributes?: TraceAttributes): TraceSpan;
  /** a point in time inside the span (a callback, an exit, a CDEvent written) */
  event(name: string, attributes?: TraceAttributes): void;
  set(attributes: TraceAttributes): void;
  /** end it now; `error` marks it failed with that message */
  end(error?: string): void;
}

/**
 * Where the engine reports its trace: a span per run, stage, action and attempt, the executor's
 * steps as child spans and the callbacks as events. The engine masks the run's secrets in every
 * attribute before they reach it. Only main.ts picks the implementation (tracing/); the default
 * records nothing and costs next to nothing.
 */
export interface Tracing {
  /** a root span, in the trace of `parent` (an incoming trace context) when given */
  start(name: string, options?: { readonly parent?: TraceContext; readonly attributes?: TraceAttributes }): TraceSpan;
}

/** The span of a trace that is not recorded. */
export const NO_SPAN: TraceSpan = {
  context: undefined,
  child: () => NO_SPAN,
  event: () => undefined,
  set: () => undefined,
  end: () => undefined,
};

/** Records no trace: the default. */
export const NO_TRACING: Tracing = { start: () => NO_SPAN };
