import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { RunState, TaskRunState } from '../domain/states.js';
import type { Scope } from '../domain/scopes.js';
import type { InboxStore } from '../events/inbox.js';
import type { SinkLeaseStore } from '../events/sink-lease.js';

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
  /** only runs started by this kind of trigger */
  readonly triggerKind?: TriggerInfo['kind'];
  /** only runs created at or after this time, epoch ms */
  readonly createdAfter?: number;
  /** only runs created before this time, epoch ms */
  readonly createdBefore?: number;
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
  /** How many runs are in each state; every state is a key (0 when none). For `/metrics`. */
  countByState(): Promise<Record<RunState, number>>;
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
  /**
   * Apply `patch` without changing state (interim output, ref, facts). With `step`, the same
   * statement also records that contract step at `step.at` unless it is already recorded (as
   * `markStep`), so a callback that patches the task run costs one write. Throws `NotFoundError`
   * when no task run has `id`.
   */
  update(id: string, patch: TaskRunPatch, step?: { readonly step: ContractStep; readonly at: number }): Promise<void>;
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

/** One TASK_STATUS report as given to the store; absent and `null` fields mean "not reported". */
export interface NewStatus {
  readonly at: number;
  readonly message?: string | null;
  readonly progress?: number | null;
  readonly output?: JsonObject | null;
}

export interface StatusStore {
  /** Store one report as the next seq of its task run. Throws `NotFoundError` for an unknown task run. */
  append(taskRunId: string, status: NewStatus): Promise<StatusRecord>;
  /**
   * Everything a TASK_STATUS callback persists, in ONE transaction: `append` the report, set the
   * task run's latest `message` and `output` to the report's (each only when reported; stored as
   * given, so mask first) and record the `task-status` contract step at `status.at` unless it is
   * already recorded. Resolves once committed, with the stored report. Throws `NotFoundError` for
   * an unknown task run, having written nothing.
   */
  record(taskRunId: string, status: NewStatus): Promise<StatusRecord>;
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
  /** an event type pattern (events/type-pattern.ts): exact, unversioned (any `.M.m.p`) or a `*` glob */
  readonly type?: string;
  /** cursor: only deliveries after this one in `list` order (newest event first, then sink name) */
  readonly after?: { readonly eventSeq: number; readonly sink: string };
  /** default 100 */
  readonly limit?: number;
}

/**
 * Delivery state of outbox events per sink. The delivery worker (src/events) is the only writer.
 * Order per run and sink: the worker delivers a run's events in `eventSeq` order.
 */
export interface DeliveryStore {
  /**
   * Create `pending` rows for `sink` for every outbox event it has no row for yet, or only among
   * events with seq > `afterSeq` when given (a bounded scan). Returns how many.
   */
  enqueueNew(sink: string, now: number, afterSeq?: number): Promise<number>;
  /** `pending` deliveries of `sink`, oldest event first, with their events (due or not). */
  listPending(sink: string, limit: number): Promise<(DeliveryRecord & { readonly event: OutboxRecord })[]>;
  markDelivered(sink: string, eventSeq: number, at: number): Promise<void>;
  /** Count a failed attempt; `dead` moves it to the dead-letter state. */
  markFailed(sink: string, eventSeq: number, error: string, nextAttemptAt: number, dead: boolean): Promise<void>;
  list(filter?: DeliveryFilter): Promise<DeliveryRecord[]>;
  /** Move matching `dead` deliveries back to `pending`, due now. Returns how many. */
  redeliver(filter: DeliveryFilter, now: number): Promise<number>;
  /** How many deliveries are `pending`, over all sinks (the delivery backlog, for `/metrics`). */
  countPending(): Promise<number>;
}

/** A stored API token (its secret is never stored, only its sha256). */
export interface ApiTokenRecord {
  readonly id: string;
  /** who or what it is for; shown as the actor in audit fields (approvals, reruns) */
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

export interface ApiTokenStore {
  create(token: Omit<ApiTokenRecord, 'lastUsedAt' | 'revokedAt'> & { readonly tokenHash: string }): Promise<void>;
  /** The token with this hash, revoked or not. */
  getByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  /** All tokens, newest first. */
  list(): Promise<ApiTokenRecord[]>;
  /** Revoke by id; false when no such live token. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Record a use (at most one write per token a minute is enough; callers may call on every use). */
  touch(id: string, at: number): Promise<void>;
  count(): Promise<number>;
}

/** One registered, immutable version of a component. */
export interface ComponentVersionRecord {
  readonly name: string;
  /** semver, `1.2.0` */
  readonly version: string;
  /** the component definition as registered (component.yaml as JSON, validated) */
  readonly spec: JsonObject;
  /** the YAML or JSON text it was registered from */
  readonly source: string;
  readonly deprecated: boolean;
  readonly deprecationMessage: string | null;
  /**
   * absolute folder of the component's files on the server's machine, when the registration
   * gave one: the local executor resolves a `./` command there (container executors ignore it)
   */
  readonly dir?: string | null;
  readonly createdAt: number;
  /** the API token name (or `cli`) that registered it */
  readonly createdBy: string | null;
}

export interface ComponentFilter {
  /** substring of the name or description, case-insensitive */
  readonly query?: string;
  readonly includeDeprecated?: boolean;
}

export interface ComponentStore {
  /** Register a version; ConflictError when `name@version` exists (versions are immutable). */
  register(record: Omit<ComponentVersionRecord, 'deprecated' | 'deprecationMessage'>): Promise<void>;
  get(name: string, version: string): Promise<ComponentVersionRecord | undefined>;
  /** Every version of `name`, newest (highest semver) first. */
  versions(name: string): Promise<ComponentVersionRecord[]>;
  /** The newest version of each component matching `filter`, by name. */
  list(filter?: ComponentFilter): Promise<ComponentVersionRecord[]>;
  /** Mark a version deprecated (still resolvable by exact version); false when it does not exist. */
  deprecate(name: string, version: string, message: string | null): Promise<boolean>;
}

/** A workflow under management: its name, whether triggers start it, its newest version. */
export interface WorkflowRecord {
  readonly name: string;
  readonly enabled: boolean;
  /** 1, 2, 3… */
  readonly latestVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One applied, immutable version of a workflow. */
export interface WorkflowVersionRecord {
  readonly name: string;
  readonly version: number;
  /** the YAML (or JSON) text as applied */
  readonly source: string;
  /** sha256 of `source`, hex: applying the same text again makes no new version */
  readonly digest: string;
  /** the compiled plan (JSON), what runs of this version follow */
  readonly plan: JsonValue;
  readonly createdAt: number;
  readonly createdBy: string | null;
}

export interface WorkflowStore {
  /**
   * Store `source` as the next version of `name` (creating the workflow, enabled, if new), unless
   * its digest equals the latest version's: then nothing is written and `created` is false.
   */
  apply(input: {
    name: string;
    source: string;
    digest: string;
    plan: JsonValue;
    at: number;
    by: string | null;
  }): Promise<{ version: WorkflowVersionRecord; created: boolean }>;
  get(name: string): Promise<WorkflowRecord | undefined>;
  list(): Promise<WorkflowRecord[]>;
  getVersion(name: string, version: number): Promise<WorkflowVersionRecord | undefined>;
  /** Every version of `name`, newest first. */
  versions(name: string): Promise<WorkflowVersionRecord[]>;
  /** false when the workflow does not exist */
  setEnabled(name: string, enabled: boolean, at: number): Promise<boolean>;
}

/**
 * Where a secret applies: `global` (every workflow) or `workflow:<name>` (that workflow only,
 * winning over a global secret of the same name).
 */
export type SecretScope = 'global' | `workflow:${string}`;

/** A stored secret. The value is only ever stored encrypted (service/secret-service.ts). */
export interface SecretRecord {
  readonly scope: SecretScope;
  /** `NPM_TOKEN`: read as `secrets.NPM_TOKEN` */
  readonly name: string;
  /** the encrypted value (`v1:` AES-256-GCM envelope); opaque to the store */
  readonly ciphertext: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** the API token name (or `cli`) that last set it */
  readonly updatedBy: string | null;
}

export interface SecretStore {
  /** Create or replace the secret `scope`/`name` (createdAt kept on replace). True when created. */
  put(record: Omit<SecretRecord, 'createdAt'>): Promise<boolean>;
  get(scope: SecretScope, name: string): Promise<SecretRecord | undefined>;
  /** Secrets of the given scopes (all when omitted), by scope then name. */
  list(scopes?: readonly SecretScope[]): Promise<SecretRecord[]>;
  /** false when no such secret */
  delete(scope: SecretScope, name: string): Promise<boolean>;
}

/** A webhook delivery seen recently (redeliveries of it start no second run). */
export interface WebhookDeliveryRecord {
  readonly workflow: string;
  /** `github`, `gitlab`, `generic` */
  readonly provider: string;
  /** the sender's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`, `X-Pilotage-Delivery`) */
  readonly deliveryId: string;
  readonly receivedAt: number;
  /** the run it started, once started */
  readonly runId: string | null;
}

export interface WebhookDeliveryStore {
  /**
   * Claim a delivery: true when no claim younger than `windowMs` exists for this workflow,
   * provider and delivery id (an older one is replaced). Atomic across processes and replicas.
   */
  claim(workflow: string, provider: string, deliveryId: string, at: number, windowMs: number): Promise<boolean>;
  /** Record the run a claimed delivery started. */
  setRun(workflow: string, provider: string, deliveryId: string, runId: string): Promise<void>;
  /** Give a claim up (the run could not start), so a redelivery may try again. */
  release(workflow: string, provider: string, deliveryId: string): Promise<void>;
  get(workflow: string, provider: string, deliveryId: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Remove claims received before `before`. Returns how many. */
  purge(before: number): Promise<number>;
}

/** A cron tick claimed by one scheduler (so no tick starts two runs). */
export interface CronClaimRecord {
  readonly workflow: string;
  /** index of the cron trigger in the workflow's `triggers` */
  readonly triggerIndex: number;
  /** the scheduled time of the tick, epoch ms */
  readonly tickAt: number;
  /** the engine (config.engineId) that claimed it */
  readonly claimedBy: string;
  readonly claimedAt: number;
  readonly runId: string | null;
}

export interface CronClaimStore {
  /** Insert-if-absent on (workflow, triggerIndex, tickAt): true only for the one claimer. */
  claim(claim: Omit<CronClaimRecord, 'runId'>): Promise<boolean>;
  /** Record the run a claimed tick started. */
  setRun(workflow: string, triggerIndex: number, tickAt: number, runId: string): Promise<void>;
  /** Claims of a workflow, oldest tick first. */
  list(workflow: string): Promise<CronClaimRecord[]>;
  /** Remove claims of ticks before `before`. Returns how many. */
  purge(before: number): Promise<number>;
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
  readonly apiTokens: ApiTokenStore;
  readonly components: ComponentStore;
  readonly workflows: WorkflowStore;
  /** incoming CDEvents already seen (deduplication by source and id) */
  readonly inbox: InboxStore;
  /** which replica delivers to each events sink */
  readonly sinkLeases: SinkLeaseStore;
  /** the secret store (values encrypted by service/secret-service.ts) */
  readonly secrets: SecretStore;
  /** webhook deliveries seen in the last 24 h (deduplication) */
  readonly webhookDeliveries: WebhookDeliveryStore;
  /** cron ticks claimed (no double fire across restarts and replicas) */
  readonly cronClaims: CronClaimStore;
  /** `sqlite` or `postgres` */
  readonly dialect: string;
  /** Close connections. Safe to repeat. */
  close(): Promise<void>;
}
