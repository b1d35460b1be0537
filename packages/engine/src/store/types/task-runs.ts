import type { JsonObject, JsonValue } from '../../domain/vocabulary.js';
import type { TaskRunState } from '../../domain/states.js';
import type { NewOutboxEvent } from './events.js';

/** The task runs area: task runs and what their components report (statuses, log lines). */

/** A callback step of the component contract. */
export type ContractStep = 'component-start' | 'task-start' | 'task-status' | 'task-result' | 'component-stop';

/**
 * Where a task run stands in its action's matrix: the plan action's name (`action` of the task
 * run is the combination's, `build (linux, 18)`), the combination's 0-based place in the
 * expansion, and its values.
 */
export interface MatrixPlace {
  readonly action: string;
  readonly index: number;
  readonly values: JsonObject;
}

/** A stored task run: one attempt of one action of a run. */
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
  /** its combination, when its action has a matrix */
  readonly matrix: MatrixPlace | null;
  /** TASK_STATUS reports stored (seqs 1..statusCount) */
  readonly statusCount: number;
  /** what the per task run caps (domain/task-run-limits.ts) dropped; all 0 while under them */
  readonly dropped: TaskRunDropped;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
}

/** Counts of what the per task run caps dropped. */
export interface TaskRunDropped {
  /** TASK_STATUS reports not stored */
  readonly statuses: number;
  /** log lines not stored, and their bytes (newlines included) */
  readonly logLines: number;
  readonly logBytes: number;
}

/** A task run to record (`TaskRunStore.create`). */
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
  /**
   * initial state: `pending`; `starting` for an attempt whose component starts at once (its
   * history then records `pending` at `createdAt` and the move to `starting` at `startingAt`, as
   * a create followed by a transition would, in one transaction); or `skipped` for an action
   * whose `if:` was false
   */
  readonly state?: 'pending' | 'starting' | 'skipped';
  /** when it moved to `starting` (with `state: 'starting'`; default `createdAt`) */
  readonly startingAt?: number;
  readonly reason?: string | null;
  /**
   * the event data as sent, sealed (engine InputSeal), when `eventData` has secrets masked;
   * stored apart from the record and read back only by `sealedEventData`
   */
  readonly sealedEventData?: string;
  /** its combination, when its action has a matrix */
  readonly matrix?: MatrixPlace | null;
  readonly createdAt: number;
}

/** Fields a task run update or transition may set; absent fields are left alone, `null` clears. */
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

/** A state a task run passed through without a write of its own (`TaskRunStore.transition`). */
export interface PassedThrough {
  readonly state: TaskRunState;
  /** when it entered that state (epoch ms) */
  readonly at: number;
}

/** Task runs: creation, compare-and-set state changes, interim updates, contract steps. */
export interface TaskRunStore {
  /** Record a new task run. Writes `events` in the same transaction. */
  create(taskRun: NewTaskRun, events?: readonly NewOutboxEvent[]): Promise<TaskRunRecord>;
  get(id: string): Promise<TaskRunRecord | undefined>;
  /** The task run owning a callback token hash (only while it has one). */
  getByTokenHash(tokenHash: string): Promise<TaskRunRecord | undefined>;
  /** The sealed event data of task run `id` (`NewTaskRun.sealedEventData`), if it has some. */
  sealedEventData(id: string): Promise<string | undefined>;
  /** All task runs of a run, in creation order. */
  listByRun(runId: string): Promise<TaskRunRecord[]>;
  /**
   * Compare-and-set state change, as `RunStore.transition`. `logs`: the task run's last log
   * lines (already masked), appended as `LogStore.append` does in the same transaction, before
   * the events, so that a task's end and its last output commit together; they are appended
   * even when the task run was not in one of `from` (the move alone is then refused).
   * `through`: a state it passed through on the way that was not recorded on its own (a
   * component that ended before its `running` was written): its transition row (at
   * `through.at`) comes before the one to `to`, in the same write; `events` then hold both
   * moves' events, in order. `steps`: how many contract steps the caller knows to be recorded
   * (`steps` keys): the move is refused (false) when the store holds another number, so that a
   * holder concluding a task run learns in the same statement whether another replica recorded a
   * callback of it meanwhile (service/store-callbacks.ts), instead of reading it first.
   */
  transition(
    id: string,
    from: readonly TaskRunState[],
    to: TaskRunState,
    at: number,
    patch?: TaskRunPatch,
    events?: readonly NewOutboxEvent[],
    logs?: readonly NewLogLine[],
    through?: PassedThrough,
    steps?: number,
  ): Promise<boolean>;
  /**
   * Apply `patch` without changing state (interim output, ref, facts). With `step`, the same
   * statement also records that contract step at `step.at` unless it is already recorded (as
   * `markStep`), so a callback that patches the task run costs one write. Throws `NotFoundError`
   * when no task run has `id`.
   */
  update(id: string, patch: TaskRunPatch, step?: { readonly step: ContractStep; readonly at: number }): Promise<void>;
  /** Record that a contract step was seen at `at` (first time only). */
  markStep(id: string, step: ContractStep, at: number): Promise<void>;
  /**
   * Record a decision on a waiting gate (a `running` task run that holds no process, executor
   * `none`: an approval stage) as its `result`, `output` and `message`, unless one was recorded
   * already: the first decision wins, on whichever replica it was taken. The run's holder then
   * moves the task run on. False, writing nothing, when the task run is not such a waiting gate
   * or was decided already.
   */
  decide(
    id: string,
    decision: { readonly result: 'success' | 'failure'; readonly output: JsonObject; readonly message: string },
  ): Promise<boolean>;
}

/** One TASK_STATUS report. */
export interface StatusRecord {
  readonly taskRunId: string;
  readonly seq: number;
  readonly at: number;
  readonly message: string | null;
  readonly progress: number | null;
  readonly output: JsonObject | null;
  /**
   * Set on what `record`/`append` resolve with when the status caps dropped the report: it was
   * not stored (seq 0), only counted (`TaskRunRecord.dropped.statuses`) and, by `record`,
   * applied to the task run's latest message and output.
   */
  readonly dropped?: true;
}

/** One TASK_STATUS report as given to the store; absent and `null` fields mean "not reported". */
export interface NewStatus {
  readonly at: number;
  readonly message?: string | null;
  readonly progress?: number | null;
  readonly output?: JsonObject | null;
}

/** TASK_STATUS reports, numbered 1, 2, 3… per task run. */
export interface StatusStore {
  /**
   * Store one report as the next seq of its task run, unless the status caps drop it (then it
   * resolves with `dropped: true`, the first one dropped writing the notice line into the task
   * run's log). Throws `NotFoundError` for an unknown task run.
   */
  append(taskRunId: string, status: NewStatus): Promise<StatusRecord>;
  /**
   * Everything a TASK_STATUS callback persists, in ONE transaction: `append` the report, set the
   * task run's latest `message` and `output` to the report's (each only when reported; stored as
   * given, so mask first) and record the `task-status` contract step at `status.at` unless it is
   * already recorded. Resolves once committed, with the stored report. Past a status cap the
   * report is dropped as by `append`, its message/output and step mark still applied. Throws
   * `NotFoundError` for an unknown task run, having written nothing.
   */
  record(taskRunId: string, status: NewStatus): Promise<StatusRecord>;
  /** Every stored report of a task run, by seq (at most the status cap's count). */
  list(taskRunId: string): Promise<StatusRecord[]>;
  /**
   * A page of a task run's reports, oldest first: with `before`, the `limit` latest ones whose
   * seq is below it (`before: Infinity`: the latest); else the `limit` first ones after `after`
   * (default 0).
   */
  read(taskRunId: string, page: StatusPageQuery): Promise<StatusRecord[]>;
  /** The reports of every task run of a run, by task run then seq, in ONE query. */
  listForRun(runId: string): Promise<StatusRecord[]>;
  /** The latest `count` reports of each task run of a run, by task run then seq, in ONE query. */
  latestForRun(runId: string, count: number): Promise<StatusRecord[]>;
}

/** Which page of a task run's reports to read (`StatusStore.read`). */
export interface StatusPageQuery {
  readonly after?: number;
  readonly before?: number;
  readonly limit: number;
}

/** One stored log line. `seq` is 1-based per task run, in the order the lines were read. */
export interface LogRecord {
  readonly taskRunId: string;
  readonly seq: number;
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/** One log line as given to the store. */
export interface NewLogLine {
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/** Log lines of task runs, numbered 1, 2, 3… per task run. */
export interface LogStore {
  /**
   * Append lines (already masked) in order; returns the seq of the last one stored. Past the log
   * bytes cap, the lines that do not fit are dropped and counted (`TaskRunRecord.dropped`), the
   * first drop appending the notice line; every later line is dropped too. Owner-checked.
   */
  append(taskRunId: string, lines: readonly NewLogLine[]): Promise<number>;
  /** Lines with seq > afterSeq, at most `limit` (default 1000). */
  read(taskRunId: string, afterSeq?: number, limit?: number): Promise<LogRecord[]>;
  /** The last `count` lines. */
  tail(taskRunId: string, count: number): Promise<LogRecord[]>;
}
