import type { Outcome } from '../domain/states.js';
import type { TraceContext } from '../domain/trace-context.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { Executor, LogLine } from '../executor/executor.js';
import type { Plan } from '../plan/types.js';
import type { NewOutboxEvent, OutboxRecord, RunRecord, StatusRecord, TaskRunRecord } from '../store/types.js';

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
  /**
   * A component-reported CDEvent (CO_CDEVENT), completed and validated; a string is an error.
   * Linked to the task run's `taskrun.started` and built on the run's engine URL as this process
   * knows them, or, given `written` (the run's events in run order, read from the store), as
   * they stand there: what a replica that does not carry the run passes, so that the event is
   * the one the run's holder would have built (nothing is kept of it here).
   */
  componentEvent?(
    run: RunRecord,
    task: TaskRunRecord,
    event: JsonObject,
    at: number,
    written?: readonly OutboxRecord[],
  ): NewOutboxEvent | string;
  /**
   * Take up a run whose earlier events another process (or an earlier life of this one) wrote,
   * given those events in run order: its later events link to them and keep their `source` and
   * URIs. The engine calls it before it carries a run it did not start.
   */
  resume?(run: RunRecord, written: readonly OutboxRecord[]): void;
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

/** What starts a child run: the action of `parent` that `uses:` a workflow, and that workflow. */
export interface ChildRunRequest {
  readonly parent: RunRecord;
  /** the calling task run (one attempt of the action) */
  readonly taskRunId: string;
  /** the called plan, its own calls' plans in `workflows` */
  readonly plan: Plan;
  /** the stored version it runs (`3` for `deploy@3`), else the plan's version label */
  readonly workflowVersion: string | null;
  /** the event data: the action's rendered `with:` */
  readonly data: JsonValue;
  /** the parent's secrets (a child reads what its parent may) */
  readonly secrets: Readonly<Record<string, string>>;
  /** a rerun that propagates: the earlier child run this one reruns, and what it reuses of it */
  readonly rerun?: {
    readonly of: string;
    readonly reuse: ReadonlyMap<string, TaskRunRecord>;
    /** the earlier child, when its kept workspace is the new child's start (as its caller's is) */
    readonly workspaceFrom?: string;
  };
  /** the calling attempt's trace context: the child run's spans join its trace */
  readonly traceParent?: TraceContext;
}

/**
 * Starts and follows the child runs of actions that `uses:` a workflow. The engine implements
 * it for its own runs; a child run is a run like any other (its own record, events, recovery),
 * linked to its parent.
 */
export interface ChildRuns {
  /**
   * Record a `queued` child run (trigger `call`, in the parent's CDEvents chain) and carry it
   * out. Throws ValidationError when `data` does not match the called workflow's inputs.
   */
  start(request: ChildRunRequest): Promise<RunRecord>;
  /**
   * Resolves with the run's record once it has ended, wherever this engine carries it out (also
   * a run recovery starts later); with a record not ended when the engine closes first.
   */
  wait(runId: string): Promise<RunRecord>;
  /** Ask the run to cancel (nothing when it has ended). */
  cancel(runId: string, message: string): Promise<void>;
}

/**
 * The files of the action cache: one folder per entry key holding the saved workspace paths.
 * Replicas that share a cache share this folder (a shared volume); an entry whose folder is
 * missing here counts as a miss.
 */
export interface CacheFiles {
  /**
   * Save `paths` (relative to `workspaceDir`; missing ones are skipped) as entry `key`, replacing
   * what it held. Returns the paths saved and their size in bytes.
   */
  save(key: string, workspaceDir: string, paths: readonly string[]): Promise<{ paths: string[]; bytes: number }>;
  /** Copy entry `key`'s `paths` into `workspaceDir`; false (nothing copied) when one is missing. */
  restore(key: string, workspaceDir: string, paths: readonly string[]): Promise<boolean>;
  /**
   * `save` for a workspace that is not a folder of this host: `fill(stagingDir)` copies the
   * workspace's `paths` into `stagingDir` (a new folder of the cache folder; missing paths are
   * left out); what it put there becomes entry `key`, all or nothing.
   */
  saveWith(
    key: string,
    paths: readonly string[],
    fill: (stagingDir: string) => Promise<void>,
  ): Promise<{ paths: string[]; bytes: number }>;
  /**
   * `restore` for a workspace that is not a folder of this host: when entry `key` holds every
   * one of `paths`, `copy(entryDir)` copies them from the entry's folder into the workspace.
   */
  restoreWith(key: string, paths: readonly string[], copy: (entryDir: string) => Promise<void>): Promise<boolean>;
  /** Remove the entries' folders (missing ones are fine). */
  remove(keys: readonly string[]): Promise<void>;
}

/** No cache folder: nothing is saved, and only entries without paths can be restored. */
export const NO_CACHE_FILES: CacheFiles = {
  save: () => Promise.resolve({ paths: [], bytes: 0 }),
  restore: (_key, _dir, paths) => Promise.resolve(paths.length === 0),
  saveWith: () => Promise.resolve({ paths: [], bytes: 0 }),
  restoreWith: (_key, paths) => Promise.resolve(paths.length === 0),
  remove: () => Promise.resolve(),
};

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
