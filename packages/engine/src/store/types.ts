import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { RunState, TaskRunState } from '../domain/states.js';

/**
 * Narrow store interfaces, one per area. The engine depends on these only; the Kysely
 * implementation (SQLite file by default, PostgreSQL for replicas) lives beside them.
 * Timestamps are epoch milliseconds. JSON columns come back parsed.
 */

/** What started a run. */
export interface TriggerInfo {
  readonly kind: 'manual' | 'cli' | 'webhook' | 'cdevent' | 'cron' | 'rerun';
  /** who or what: user, webhook provider, CDEvent id, cron tick */
  readonly by?: string;
  readonly details?: JsonObject;
}

export interface RunRecord {
  readonly id: string;
  /** 1, 2, 3… per workflow name */
  readonly number: number;
  readonly workflow: string;
  readonly workflowVersion: string | null;
  readonly state: RunState;
  /** the run's event data, defaults applied */
  readonly inputs: JsonObject;
  /** the compiled plan the run follows (JSON), so a restart can resume it */
  readonly plan: JsonValue;
  readonly trigger: TriggerInfo;
  /** CDEvents chain id shared by all events of the run (and its triggering event) */
  readonly chainId: string;
  /** why it ended as it did (failed action, timeout, cancel request) */
  readonly reason: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
}

/** A callback step of the component contract. */
export type ContractStep = 'component-start' | 'task-start' | 'task-status' | 'task-result' | 'component-stop';

export interface TaskRunRecord {
  readonly id: string;
  readonly runId: string;
  readonly stage: string;
  readonly action: string;
  /** 1 for the first attempt */
  readonly attempt: number;
  readonly state: TaskRunState;
  /** `name@version` */
  readonly component: string;
  readonly executor: string;
  /** sha256 of the callback token (the token itself is never stored) */
  readonly tokenHash: string | null;
  /** the rendered event data (CO_DATA) */
  readonly eventData: JsonValue;
  /** outputs: TASK_RESULT output merged over `[COUT]` lines; interim output while running */
  readonly output: JsonObject;
  /** the component's reported verdict, if it posted TASK_RESULT (or `[COUT] CO_RESULT`) */
  readonly result: 'success' | 'failure' | null;
  /** last message: TASK_RESULT message, or the latest TASK_STATUS message */
  readonly message: string | null;
  /** why it ended as it did, in the engine's words (`timeout`, `exit code 3`, `missing TASK_RESULT`) */
  readonly reason: string | null;
  readonly exitCode: number | null;
  /** executor ref: pid, container id, pod name */
  readonly ref: string | null;
  /** executor facts: image digest, warnings */
  readonly facts: Readonly<Record<string, string>>;
  /** when each contract step was first seen (epoch ms) */
  readonly steps: Readonly<Partial<Record<ContractStep, number>>>;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
}

/** An event row written with a state change (the transactional outbox). */
export interface NewOutboxEvent {
  readonly id: string;
  readonly runId: string | null;
  /** CloudEvents/CDEvents type */
  readonly type: string;
  /** the whole CDEvent, JSON */
  readonly payload: JsonObject;
  readonly createdAt: number;
}

export interface NewRun {
  readonly id: string;
  readonly workflow: string;
  readonly workflowVersion?: string | null;
  readonly inputs: JsonObject;
  readonly plan: JsonValue;
  readonly trigger: TriggerInfo;
  readonly chainId: string;
  readonly createdAt: number;
}

export interface RunPatch {
  readonly reason?: string | null;
  readonly startedAt?: number;
  readonly endedAt?: number;
}

export interface RunFilter {
  readonly workflow?: string;
  readonly state?: RunState;
  /** ids sort by time: return runs with id < before (cursor pagination) */
  readonly before?: string;
  /** default 50 */
  readonly limit?: number;
}

/** A recorded state change of a run or a task run. */
export interface TransitionRecord {
  readonly entityId: string;
  readonly from: string | null;
  readonly to: string;
  readonly at: number;
  readonly reason: string | null;
}

export interface RunStore {
  /** Record a new `queued` run; assigns its number. Writes `events` in the same transaction. */
  create(run: NewRun, events?: readonly NewOutboxEvent[]): Promise<RunRecord>;
  get(id: string): Promise<RunRecord | undefined>;
  list(filter?: RunFilter): Promise<RunRecord[]>;
  /**
   * Move a run from one of `from` to `to` (compare-and-set), recording the transition with `at`,
   * applying `patch` and writing `events`, all in one transaction. Returns false (and writes
   * nothing) when the run was not in one of `from`.
   */
  transition(
    id: string,
    from: readonly RunState[],
    to: RunState,
    at: number,
    patch?: RunPatch,
    events?: readonly NewOutboxEvent[],
  ): Promise<boolean>;
  /** Runs in one of `states` (recovery after a restart). */
  listByState(states: readonly RunState[]): Promise<RunRecord[]>;
}

export interface NewTaskRun {
  readonly id: string;
  readonly runId: string;
  readonly stage: string;
  readonly action: string;
  readonly attempt: number;
  readonly component: string;
  readonly executor: string;
  readonly tokenHash: string | null;
  readonly eventData: JsonValue;
  /** initial state: `pending`, or `skipped` for an action whose `if:` was false */
  readonly state?: 'pending' | 'skipped';
  readonly reason?: string | null;
  readonly createdAt: number;
}

export interface TaskRunPatch {
  readonly output?: JsonObject;
  readonly result?: 'success' | 'failure' | null;
  readonly message?: string | null;
  readonly reason?: string | null;
  readonly exitCode?: number | null;
  readonly ref?: string | null;
  readonly facts?: Readonly<Record<string, string>>;
  readonly startedAt?: number;
  readonly endedAt?: number;
}

export interface TaskRunStore {
  /** Record a new task run. Writes `events` in the same transaction. */
  create(taskRun: NewTaskRun, events?: readonly NewOutboxEvent[]): Promise<TaskRunRecord>;
  get(id: string): Promise<TaskRunRecord | undefined>;
  /** The task run owning a callback token hash (only while it has one). */
  getByTokenHash(tokenHash: string): Promise<TaskRunRecord | undefined>;
  /** All task runs of a run, in creation order. */
  listByRun(runId: string): Promise<TaskRunRecord[]>;
  /** Compare-and-set state change, as `RunStore.transition`. */
  transition(
    id: string,
    from: readonly TaskRunState[],
    to: TaskRunState,
    at: number,
    patch?: TaskRunPatch,
    events?: readonly NewOutboxEvent[],
  ): Promise<boolean>;
  /** Apply `patch` without changing state (interim output, ref, facts). */
  update(id: string, patch: TaskRunPatch): Promise<void>;
  /** Record that a contract step was seen at `at` (first time only). */
  markStep(id: string, step: ContractStep, at: number): Promise<void>;
}

/** One TASK_STATUS report. */
export interface StatusRecord {
  readonly taskRunId: string;
  readonly seq: number;
  readonly at: number;
  readonly message: string | null;
  readonly progress: number | null;
  readonly output: JsonObject | null;
}

export interface StatusStore {
  append(
    taskRunId: string,
    status: { at: number; message?: string | null; progress?: number | null; output?: JsonObject | null },
  ): Promise<StatusRecord>;
  list(taskRunId: string): Promise<StatusRecord[]>;
}

/** One stored log line. `seq` is 1-based per task run, in the order the lines were read. */
export interface LogRecord {
  readonly taskRunId: string;
  readonly seq: number;
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface LogStore {
  /** Append lines (already masked) in order; returns the seq of the last one. */
  append(
    taskRunId: string,
    lines: readonly { at: number; stream: 'stdout' | 'stderr'; line: string }[],
  ): Promise<number>;
  /** Lines with seq > afterSeq, at most `limit` (default 1000). */
  read(taskRunId: string, afterSeq?: number, limit?: number): Promise<LogRecord[]>;
  /** The last `count` lines. */
  tail(taskRunId: string, count: number): Promise<LogRecord[]>;
}

export interface TransitionStore {
  /** Every recorded transition of a run or task run, oldest first. */
  list(entityId: string): Promise<TransitionRecord[]>;
}

/** A stored outbox event. */
export interface OutboxRecord extends NewOutboxEvent {
  /** global insertion order */
  readonly seq: number;
}

export interface OutboxStore {
  /** Events with seq > afterSeq, oldest first. */
  listAfter(afterSeq: number, limit: number): Promise<OutboxRecord[]>;
  listByRun(runId: string): Promise<OutboxRecord[]>;
  /** Append events not tied to a state change (component-reported events). */
  append(events: readonly NewOutboxEvent[]): Promise<void>;
}

/** Delivery of one outbox event to one sink. */
export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface DeliveryRecord {
  readonly eventSeq: number;
  readonly eventId: string;
  readonly runId: string | null;
  readonly type: string;
  readonly sink: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly lastError: string | null;
  /** epoch ms before which no new attempt is made */
  readonly nextAttemptAt: number;
  readonly deliveredAt: number | null;
}

export interface DeliveryFilter {
  readonly sink?: string;
  readonly state?: DeliveryState;
  readonly runId?: string;
  readonly eventId?: string;
  /** default 100 */
  readonly limit?: number;
}

/**
 * Delivery state of outbox events per sink. The delivery worker (src/events) is the only writer.
 * Order per run and sink: the worker delivers a run's events in `eventSeq` order.
 */
export interface DeliveryStore {
  /** Create `pending` rows for `sink` for every outbox event it has no row for yet. Returns how many. */
  enqueueNew(sink: string, now: number): Promise<number>;
  /** `pending` deliveries of `sink`, oldest event first, with their events (due or not). */
  listPending(sink: string, limit: number): Promise<(DeliveryRecord & { readonly event: OutboxRecord })[]>;
  markDelivered(sink: string, eventSeq: number, at: number): Promise<void>;
  /** Count a failed attempt; `dead` moves it to the dead-letter state. */
  markFailed(sink: string, eventSeq: number, error: string, nextAttemptAt: number, dead: boolean): Promise<void>;
  list(filter?: DeliveryFilter): Promise<DeliveryRecord[]>;
  /** Move matching `dead` deliveries back to `pending`, due now. Returns how many. */
  redeliver(filter: DeliveryFilter, now: number): Promise<number>;
}

/** The whole store: its areas and its lifetime. */
export interface Store {
  readonly runs: RunStore;
  readonly taskRuns: TaskRunStore;
  readonly statuses: StatusStore;
  readonly logs: LogStore;
  readonly transitions: TransitionStore;
  readonly outbox: OutboxStore;
  readonly deliveries: DeliveryStore;
  /** `sqlite` or `postgres` */
  readonly dialect: string;
  /** Close connections. Safe to repeat. */
  close(): Promise<void>;
}
