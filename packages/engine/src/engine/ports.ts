import type { Outcome } from '../domain/states.js';
import type { JsonObject } from '../domain/vocabulary.js';
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

/** Finds the executor for a name (`local`, `docker`, `kubernetes`). */
export interface ExecutorSet {
  /** the executor used when neither the workflow nor the action names one */
  readonly defaultName: string;
  get(name: string): Executor;
  all(): Executor[];
}

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
