import type { ColumnType, Generated } from 'kysely';
import type { RunState, TaskRunState } from '../../domain/states.js';
import type { DeliveryState, WorkspaceState } from '../types.js';

/**
 * The tables as Kysely sees them. Column names are snake_case; the area stores map rows to
 * the camelCase records of `../types.ts`.
 */

/**
 * A JSON column: written as JSON text (the dialect encodes it), read back as whatever the driver
 * returns (text on SQLite, already parsed on PostgreSQL), so always read it through
 * `StoreDialect.decodeJson`.
 */
export type JsonColumn = ColumnType<unknown, string, string>;
/** The same, for a column that may be SQL NULL. */
export type NullableJsonColumn = ColumnType<unknown, string | null, string | null>;

export interface RunsTable {
  id: string;
  workflow: string;
  number: number;
  workflow_version: string | null;
  state: RunState;
  /** the state before the last transition, written by the compare-and-set update */
  previous_state: RunState | null;
  inputs: JsonColumn;
  /** the inputs as sent, encrypted by the engine, when `inputs` has secrets masked (0006) */
  sealed_inputs: ColumnType<string | null, string | null | undefined, string | null>;
  plan: JsonColumn;
  trigger_info: JsonColumn;
  chain_id: string;
  reason: string | null;
  /** the run's outputs once it ended, else NULL */
  outputs: ColumnType<unknown, string | null | undefined, string | null>;
  /** the calling run and task run of a child run, else NULL */
  parent_run_id: ColumnType<string | null, string | null | undefined, string | null>;
  parent_task_run_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** the run's concurrency group, else NULL */
  concurrency_group: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  /** the replica holding the run (0060); NULL: queued and unclaimed, or let go */
  owner: ColumnType<string | null, string | null | undefined, string | null>;
  /** the plan's `maxRuns` (0060) */
  max_runs: ColumnType<number | null, number | null | undefined, number | null>;
  /** a cancel asked on any replica, its reason (0060) */
  cancel_requested: ColumnType<string | null, string | null | undefined, string | null>;
  /** how many times a cancel was asked (0072): the holder acts on each once */
  cancel_count: ColumnType<number, number | undefined, number>;
  /** the `pilotage run` replica waiting to carry it while queued (0073): only it claims it */
  waiter: ColumnType<string | null, string | null | undefined, string | null>;
  /** what is left of its workspace once it ended: NULL, `kept`, `expired` (0015) */
  workspace_state: ColumnType<WorkspaceState | null, WorkspaceState | null | undefined, WorkspaceState | null>;
  /** when a kept workspace expires; NULL: kept until removed by hand (0015) */
  workspace_expires_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** the run whose kept workspace this one started from (0015) */
  workspace_from: ColumnType<string | null, string | null | undefined, string | null>;
}

/** An engine process taking part in the cluster, and its lease (0060, `ReplicaStore`). */
export interface ReplicasTable {
  id: string;
  engine_id: string;
  host: string;
  pid: number;
  /** the engine process identity, `<pid>.<start time>` (0062) */
  process: ColumnType<string | null, string | null | undefined, string | null>;
  version: string;
  url: string | null;
  started_at: number;
  heartbeat_at: number;
  /** epoch ms by the database's clock */
  expires_at: number;
}

/** One of the engine's `maxParallel` task slots across the cluster (0060, `SlotStore`). */
export interface ParallelSlotsTable {
  slot: number;
  owner: string | null;
  task_run_id: string | null;
  taken_at: number | null;
}

export interface WorkflowCountersTable {
  workflow: string;
  last_number: number;
}

export interface TaskRunsTable {
  id: string;
  run_id: string;
  stage: string;
  action: string;
  attempt: number;
  state: TaskRunState;
  previous_state: TaskRunState | null;
  component: string;
  executor: string;
  token_hash: string | null;
  event_data: JsonColumn;
  output: JsonColumn;
  result: 'success' | 'failure' | null;
  message: string | null;
  reason: string | null;
  exit_code: number | null;
  ref: string | null;
  facts: JsonColumn;
  steps: JsonColumn;
  /** the event data as sent, sealed, when `event_data` has secrets masked (0061) */
  sealed_event_data: ColumnType<string | null, string | null | undefined, string | null>;
  /** `MatrixPlace` of a matrix combination's task run, else NULL */
  matrix: ColumnType<unknown, string | null | undefined, string | null>;
  /** last log seq handed out; bumping it is also the per-task-run append lock */
  log_seq: ColumnType<number, number | undefined, number>;
  /** last status seq handed out, same role as `log_seq` */
  status_seq: ColumnType<number, number | undefined, number>;
  /** bytes of the stored statuses, and the reports the status caps dropped (0010) */
  status_bytes: ColumnType<number, number | undefined, number>;
  statuses_dropped: ColumnType<number, number | undefined, number>;
  /** bytes of the stored log lines, and the lines and bytes the log cap dropped (0010) */
  log_bytes: ColumnType<number, number | undefined, number>;
  log_lines_dropped: ColumnType<number, number | undefined, number>;
  log_bytes_dropped: ColumnType<number, number | undefined, number>;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface StatusesTable {
  task_run_id: string;
  seq: number;
  at: number;
  message: string | null;
  progress: number | null;
  output: NullableJsonColumn;
}

export interface LogsTable {
  task_run_id: string;
  seq: number;
  at: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface TransitionsTable {
  id: Generated<number>;
  entity_id: string;
  from_state: string | null;
  to_state: string;
  at: number;
  reason: string | null;
}

export interface OutboxTable {
  seq: Generated<number>;
  id: string;
  run_id: string | null;
  type: string;
  payload: JsonColumn;
  created_at: number;
  /** the event's place among its run's events, 1, 2, 3… in commit order (null without a run) */
  run_seq: number | null;
}

/** Per run: the last `outbox.run_seq` handed out (migration 0070). */
export interface RunEventSeqsTable {
  run_id: string;
  last_seq: number;
}

export interface DeliveriesTable {
  sink: string;
  event_seq: number;
  state: DeliveryState;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  next_attempt_at: number;
  delivered_at: number | null;
  /** when the current streak of failed attempts began (migration 0071) */
  first_failed_at: number | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  scopes: JsonColumn;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface ComponentVersionsTable {
  name: string;
  version: string;
  /** name and description, lower case: what `list({query})` searches */
  search_text: string;
  spec: JsonColumn;
  source: string;
  /** 0/1 on SQLite, so an integer on both */
  deprecated: number;
  deprecation_message: string | null;
  /** folder of the component's files on the server's machine (local executor), if given */
  dir: string | null;
  created_at: number;
  created_by: string | null;
}

export interface WorkflowsTable {
  name: string;
  /** 0/1 */
  enabled: number;
  latest_version: number;
  created_at: number;
  updated_at: number;
}

export interface WorkflowVersionsTable {
  name: string;
  version: number;
  source: string;
  digest: string;
  plan: JsonColumn;
  created_at: number;
  created_by: string | null;
}

/** Incoming CDEvents already seen, by (`source`, `id`) (`InboxStore`). */
export interface CdeventsInboxTable {
  source: string;
  id: string;
  type: string;
  received_at: number;
  processed_at: number | null;
  /** JSON array of run ids */
  run_ids: JsonColumn;
}

/** Which replica delivers to a sink, until when (`SinkLeaseStore`). */
export interface SinkLeasesTable {
  sink: string;
  owner: string;
  expires_at: number;
}

export interface SecretsTable {
  scope: string;
  name: string;
  ciphertext: string;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

export interface WebhookDeliveriesTable {
  workflow: string;
  provider: string;
  delivery_id: string;
  received_at: number;
  run_id: string | null;
}

export interface UiSessionsTable {
  id_hash: string;
  token_hash: string;
  csrf: string;
  created_at: number;
  expires_at: number;
}

export interface CronClaimsTable {
  workflow: string;
  trigger_index: number;
  tick_at: number;
  claimed_by: string;
  claimed_at: number;
  run_id: string | null;
}

/** Action cache entries (`CacheStore`). */
export interface CacheEntriesTable {
  key: string;
  workflow: string;
  action: string;
  run_id: string;
  task_run_id: string;
  output: JsonColumn;
  paths: JsonColumn;
  /** PostgreSQL returns a bigint as a string: read through Number() */
  size_bytes: ColumnType<number | string, number, number>;
  created_at: ColumnType<number | string, number, number>;
  last_used_at: ColumnType<number | string, number, number>;
}

/** One row per concurrency group: locked while a replica claims a run of the group. */
export interface ConcurrencyGroupsTable {
  name: string;
}

/** The whole database. */
export interface StoreSchema {
  runs: RunsTable;
  workflow_counters: WorkflowCountersTable;
  task_runs: TaskRunsTable;
  statuses: StatusesTable;
  logs: LogsTable;
  transitions: TransitionsTable;
  outbox: OutboxTable;
  run_event_seqs: RunEventSeqsTable;
  deliveries: DeliveriesTable;
  cdevents_inbox: CdeventsInboxTable;
  sink_leases: SinkLeasesTable;
  api_tokens: ApiTokensTable;
  component_versions: ComponentVersionsTable;
  workflows: WorkflowsTable;
  workflow_versions: WorkflowVersionsTable;
  secrets: SecretsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  cron_claims: CronClaimsTable;
  replicas: ReplicasTable;
  parallel_slots: ParallelSlotsTable;
  cache_entries: CacheEntriesTable;
  concurrency_groups: ConcurrencyGroupsTable;
  ui_sessions: UiSessionsTable;
}
