import type { JsonObject, JsonValue } from '../../domain/vocabulary.js';
import type { RunState } from '../../domain/states.js';
import type { NewOutboxEvent } from './events.js';

/** The runs area: runs, what started them, and the recorded state changes of runs and task runs. */

/** What started a run. */
export interface TriggerInfo {
  /** `call`: an action of another run `uses:` this workflow (see `RunRecord.parent`) */
  readonly kind: 'manual' | 'cli' | 'webhook' | 'cdevent' | 'cron' | 'rerun' | 'call';
  /** who or what: user, webhook provider, CDEvent id, cron tick */
  readonly by?: string;
  readonly details?: JsonObject;
}

/** The run and task run that started a child run (an action that `uses:` a workflow). */
export interface RunParent {
  readonly runId: string;
  readonly taskRunId: string;
}

/** What is left of a run's workspace once it ended: `kept` on the executors, then `expired`. */
export type WorkspaceState = 'kept' | 'expired';

/** A run's workspace as the store knows it (see `Executor.prepareRun`, `releaseRun`). */
export interface RunWorkspaceInfo {
  /** the run whose kept workspace this one started as a copy of (a rerun), or null */
  readonly from: string | null;
  /**
   * null while the run goes on, or when its workspace was removed as it ended; `kept`: left on
   * the executors for a rerun; `expired`: the cleanup job removed it
   */
  readonly state: WorkspaceState | null;
  /** when a kept workspace expires, epoch ms; null: kept until removed by hand (`keepWorkspace`) */
  readonly expiresAt: number | null;
}

/** A stored run. */
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
  /**
   * the replica holding it (`ReplicaStore`); null while queued and unclaimed, or let go. Kept
   * once the run ended: the replica that ended it.
   */
  readonly owner: string | null;
  /** the workflow's declared `outputs`, rendered when the run ended (null before, or none declared) */
  readonly outputs: JsonObject | null;
  /** the run whose action called this one (`uses:`), or null */
  readonly parent: RunParent | null;
  /** its concurrency group (the workflow's `concurrency: {group}`, rendered), or null */
  readonly concurrencyGroup: string | null;
  readonly workspace: RunWorkspaceInfo;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
}

/** A run to record (`RunStore.create`); its number is assigned by the store. */
export interface NewRun {
  readonly id: string;
  readonly workflow: string;
  readonly workflowVersion?: string | null;
  readonly inputs: JsonObject;
  /**
   * the inputs as sent, sealed (encrypted) by the engine, when `inputs` has secrets masked;
   * stored apart from the record and read back only by `sealedInputs`
   */
  readonly sealedInputs?: string;
  readonly plan: JsonValue;
  readonly trigger: TriggerInfo;
  readonly chainId: string;
  /** the calling run and task run, for a child run */
  readonly parent?: RunParent | null;
  /** its concurrency group */
  readonly concurrencyGroup?: string | null;
  readonly createdAt: number;
  /** the plan's `maxRuns`, which claiming enforces across the cluster; absent: no cap */
  readonly maxRuns?: number | null;
  /** held from the start by this replica (a rerun recording its reused results); absent: queued for any */
  readonly owner?: string | null;
  /**
   * queued for this replica alone (a `pilotage run` process that waits to carry it): no other
   * replica claims it, and it ends with that process (`RunLeaseStore.waitedQueued`); absent: any
   */
  readonly waiter?: string | null;
  /** the run whose kept workspace this one starts from (`RunScope.copyFrom`); absent: an empty one */
  readonly workspaceFrom?: string | null;
}

/** Fields a run transition may set besides its state; absent fields are left alone. */
export interface RunPatch {
  readonly reason?: string | null;
  /** the run's outputs (masked), set when it ends */
  readonly outputs?: JsonObject;
  readonly startedAt?: number;
  readonly endedAt?: number;
  /** the workspace was kept as the run ended, until `expiresAt` (null: until removed by hand) */
  readonly workspaceKept?: { readonly expiresAt: number | null };
}

/** Which runs `RunStore.list` returns, newest first; absent fields do not filter. */
export interface RunFilter {
  readonly workflow?: string;
  readonly state?: RunState;
  /** only runs started by this kind of trigger */
  readonly triggerKind?: TriggerInfo['kind'];
  /** only runs created at or after this time, epoch ms */
  readonly createdAfter?: number;
  /** only runs created before this time, epoch ms */
  readonly createdBefore?: number;
  /** only the child runs of this run */
  readonly parentRunId?: string;
  /** only runs of this concurrency group */
  readonly concurrencyGroup?: string;
  /** only runs in one of these states (with `state`: both must hold) */
  readonly states?: readonly RunState[];
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

/** Runs: creation, compare-and-set state changes, queries. */
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
  /** The sealed inputs `create` stored for the run, if any (the engine alone reads them). */
  sealedInputs(id: string): Promise<string | undefined>;
  /** Runs in one of `states` (recovery after a restart). */
  listByState(states: readonly RunState[]): Promise<RunRecord[]>;
  /** How many runs are in each state; every state is a key (0 when none). For `/metrics`. */
  countByState(): Promise<Record<RunState, number>>;
}

/** The state changes recorded by `RunStore.transition` and `TaskRunStore.transition`. */
export interface TransitionStore {
  /** Every recorded transition of a run or task run, oldest first. */
  list(entityId: string): Promise<TransitionRecord[]>;
  /**
   * Every recorded transition of a run and of all its task runs, oldest first, in ONE query
   * (a run view costs the same whatever its number of task runs).
   */
  listForRun(runId: string): Promise<TransitionRecord[]>;
  /**
   * The latest `count` transitions of the run and of each of its task runs (oldest first), and
   * how many each has in all, in ONE query: a run view bounded whatever the history.
   */
  latestForRun(runId: string, count: number): Promise<LatestTransitions>;
  /**
   * A page of the transitions of a run and all its task runs (only `entityId`'s when given: the
   * run's own id or one of its task runs'), oldest first, after the cursor `after` (the `next`
   * of the previous page). `next` is null on the last page.
   */
  page(runId: string, query: TransitionPageQuery): Promise<TransitionPage>;
}

/** `TransitionStore.latestForRun`: the transitions, and entity id → how many it has in all. */
export interface LatestTransitions {
  readonly transitions: readonly TransitionRecord[];
  readonly counts: ReadonlyMap<string, number>;
}

/** Which page of a run's transitions to read. */
export interface TransitionPageQuery {
  readonly entityId?: string;
  /** a cursor: `next` of the previous page */
  readonly after?: number;
  readonly limit: number;
}

/** A page of transitions and the cursor of the next one (null: none). */
export interface TransitionPage {
  readonly transitions: readonly TransitionRecord[];
  readonly next: number | null;
}
