import type { NewOutboxEvent } from './events.js';
import type { RunRecord } from './runs.js';

/**
 * The cluster area: the replicas sharing a store and their leases, which replica holds which
 * run, and the engine's task slots across the cluster.
 *
 * A replica is one engine process (`pilotage serve`, or `pilotage run`) registered with a lease
 * that its heartbeat renews. A run in progress is held by one replica (`RunRecord.owner`); the
 * run's lease is that column together with its owner's replica lease, so one write per heartbeat
 * renews all of a replica's runs. Lease times are epoch ms by the database's clock.
 */

/** A replica as it registers. */
export interface NewReplica {
  /** unique per registration: `<engineId>/<random>` (a lost lease means a new id) */
  readonly id: string;
  /** the config's engine id (host and store) */
  readonly engineId: string;
  readonly host: string;
  readonly pid: number;
  /**
   * the engine process's identity (`<pid>.<start time>`), by which a replica on the same host
   * tells that it died; null where it cannot be known
   */
  readonly process: string | null;
  /** the engine's version (`pilotage --version`), to see a rollout in `pilotage db status` */
  readonly version: string;
  /** where its API answers, if it serves one */
  readonly url: string | null;
}

/** A registered replica. */
export interface ReplicaRecord extends NewReplica {
  readonly startedAt: number;
  readonly heartbeatAt: number;
  readonly expiresAt: number;
  /** its lease has not expired (by the database's clock, when read) */
  readonly alive: boolean;
  /** runs it holds that have not ended */
  readonly runs: number;
}

/** Replicas and their leases. */
export interface ReplicaStore {
  /** Register `replica` with a lease of `ttlMs` from now. */
  register(replica: NewReplica, ttlMs: number): Promise<void>;
  /**
   * Renew `id`'s lease for `ttlMs` from now. False, writing nothing, when it has expired or the
   * row is gone: the replica has lost its lease (another may already be taking its runs) and
   * must stop acting on every run it held.
   */
  renew(id: string, ttlMs: number): Promise<boolean>;
  /** End `id`'s lease now (a graceful stop): the runs it still holds may be taken at once. */
  release(id: string): Promise<void>;
  /** Every registered replica, live ones first, then by start. */
  list(): Promise<ReplicaRecord[]>;
  /** Forget replicas whose lease ended over `olderThanMs` ago and that hold no run. Returns how many. */
  prune(olderThanMs: number): Promise<number>;
}

/** A run a replica has just claimed or taken over, with the cancel asked for it meanwhile. */
export interface ClaimedRun {
  readonly run: RunRecord;
  /** the reason of a cancel requested on any replica (`RunLeaseStore.requestCancel`), if any */
  readonly cancelRequested: string | null;
  /** how many cancels were requested (≥ 1 when `cancelRequested` is set) */
  readonly cancels: number;
}

/** The cancels asked for a run: the first one's reason, and how many (`RunLeaseStore.requestCancel`). */
export interface CancelRequest {
  readonly runId: string;
  readonly reason: string;
  /** ≥ 1: the first stops the run, a second its finally stages too */
  readonly count: number;
}

/** Which runs `claimQueued` may take. */
export interface ClaimScope {
  /** at most this many */
  readonly limit: number;
  /** only among these run ids (an engine carrying only the runs it started); default any */
  readonly only?: readonly string[];
}

/** How the unended runs stand between replicas (`RunLeaseStore.summary`). */
export interface LeaseSummary {
  /** queued runs no replica has claimed */
  readonly unclaimed: number;
  /** unended runs held by live replicas */
  readonly held: number;
  /** unended runs whose holder's lease has expired, or running runs let go of: next to be taken over */
  readonly orphaned: number;
}

/** Who holds which run: claiming queued runs, taking over a dead replica's, letting go. */
export interface RunLeaseStore {
  /**
   * Claim queued runs nobody holds for `owner`, oldest first, within `scope`. A run whose
   * workflow caps its running runs (`maxRuns`) is claimed only while fewer of that workflow's
   * runs are held or running across the cluster than its cap, and never before an older queued
   * run of the same workflow. A run of a concurrency group is claimed only while no run of its
   * group is held or running, and never before an older queued run of the group. On PostgreSQL,
   * replicas claiming at once skip each other's rows (`FOR UPDATE SKIP LOCKED`).
   */
  claimQueued(owner: string, scope: ClaimScope): Promise<ClaimedRun[]>;
  /**
   * Whether any run is queued that no replica holds (claimable now or waiting for its workflow's
   * `maxRuns` or its concurrency group): a claimer that saw none skips the claim rounds a run's
   * end would otherwise make, until a run is queued again.
   */
  hasQueued(): Promise<boolean>;
  /**
   * Take over, for `owner`, at most `limit` runs that have not ended and whose holder's lease has
   * expired (or that a replica let go of while running), oldest first.
   */
  takeOver(owner: string, limit: number): Promise<ClaimedRun[]>;
  /**
   * Take over, for `owner`, however many, the runs `takeOver` would take that take no room on a
   * replica (`maxActiveRuns`): those waiting at an approval gate not yet decided, and the child
   * runs (`uses:`) of runs `owner` holds (a child run is started on its caller's replica; a
   * caller taken over within room would otherwise wait for ever on a child no full replica takes).
   */
  takeOverBeyondRoom(owner: string): Promise<ClaimedRun[]>;
  /** Let go of run `id` if `owner` holds it (and it has not ended), so any replica may take it. */
  release(id: string, owner: string): Promise<boolean>;
  /** Let go of every unended run `owner` holds (a graceful stop, a lost lease). Returns how many. */
  releaseAll(owner: string): Promise<number>;
  /**
   * Record a cancel of run `id` asked on any replica (its holder included), for its holder (and
   * whoever takes it over) to act on; the first reason stays. Returns how many cancels have now
   * been asked; 0 when the run has ended (or does not exist).
   */
  requestCancel(id: string, reason: string): Promise<number>;
  /**
   * Move run `id` from `queued` to `cancelled` while no replica holds it, with its transition
   * and `events` (one transaction): a cancel of a run nobody has claimed. False when it was
   * claimed meanwhile, or was not queued.
   */
  cancelQueued(id: string, at: number, reason: string, events?: readonly NewOutboxEvent[]): Promise<boolean>;
  /**
   * As `cancelQueued`, to `to`: a queued run nobody holds ends (`errored`: the `pilotage run`
   * process waiting for it died). False when it was claimed meanwhile, or was not queued.
   */
  endQueued(
    id: string,
    to: 'cancelled' | 'errored',
    at: number,
    reason: string,
    events?: readonly NewOutboxEvent[],
  ): Promise<boolean>;
  /** The queued runs nobody holds that a `pilotage run` process waits for (`NewRun.waiter`), by id. */
  waitedQueued(): Promise<{ readonly runId: string; readonly waiter: string }[]>;
  /** How the unended runs stand between replicas, for `pilotage db status`. */
  summary(): Promise<LeaseSummary>;
  /** The unended runs `owner` holds that have a cancel requested, with its reason and count. */
  cancelRequests(owner: string): Promise<CancelRequest[]>;
  /**
   * The `running` task runs that hold no process (executor `none`: approval stages) of running
   * runs `owner` holds, whose result was recorded (a decision taken on any replica) but that
   * have not moved on yet.
   */
  decidedGates(owner: string): Promise<{ readonly runId: string; readonly taskRunId: string }[]>;
}

/** The engine's `maxParallel` across the cluster: numbered slots, each held for one task attempt. */
export interface SlotStore {
  /**
   * Take a free slot among the first `limit` for `owner`'s task run `taskRunId`: one nobody
   * holds, or held by a replica whose lease has expired. Resolves with its number, or undefined
   * when all `limit` are held.
   */
  acquire(owner: string, taskRunId: string, limit: number): Promise<number | undefined>;
  /**
   * Take up to `count` free slots among the first `limit` for `owner` (as `acquire`), in one
   * write: what a burst of attempts waiting at once takes. Resolves with their numbers, in
   * order; fewer (none) when fewer are free.
   */
  acquireSome(owner: string, limit: number, count: number): Promise<number[]>;
  /** Give slot `slot` back, if `owner` still holds it. */
  release(owner: string, slot: number): Promise<void>;
  /** Give back each of `slots` that `owner` still holds, in one write. */
  releaseSome(owner: string, slots: readonly number[]): Promise<void>;
  /** How many slots live replicas hold now. */
  held(): Promise<number>;
}

/**
 * What a change on the store is about, for the replicas that wake on it:
 * - `queued`: a run was recorded queued (claimers look for work);
 * - `freed`: a run of a concurrency group or of a capped workflow ended or was cancelled while
 *   queued (runs waiting for that group or cap may be claimed now: claimers look again);
 * - `released`: a replica let go of runs or of its lease (takeover looks at once);
 * - `slot`: a task slot was given back (attempts waiting for one try again);
 * - `intent`: a cancel or an approval decision was recorded for a run (its holder acts on it);
 * - `callback`: a component's callback was applied by a replica that does not hold its run (the
 *   holder reads the task run again);
 * - `run`, `task`, `status`, `log`: a run, a task run, an interim status or log lines changed
 *   (live streams on other replicas read them again);
 * - `resync`: the feed may have missed changes (its connection was lost): read everything again.
 */
export type ChangeKind =
  'queued' | 'freed' | 'released' | 'slot' | 'intent' | 'callback' | 'run' | 'task' | 'status' | 'log' | 'resync';

/** The changes only live views need (`run`, `task`, `status`, `log`); the rest is control. */
export const LIVE_CHANGES: ReadonlySet<ChangeKind> = new Set<ChangeKind>(['run', 'task', 'status', 'log']);

/** Options of `ChangeFeed.subscribe`. */
export interface SubscribeOptions {
  /**
   * Only control changes (every kind but LIVE_CHANGES, and `resync`): what a replica's claimer and
   * run holder act on. On PostgreSQL a replica hears live changes only while a subscriber without
   * this option exists (a live view: an SSE follower, a wait for a run), so an idle replica is not
   * woken by every task of every other replica.
   */
  readonly controlOnly?: boolean;
}

/** One change, small enough for a notification: ids only, the store holds the rest. */
export interface Change {
  readonly kind: ChangeKind;
  readonly runId?: string;
  readonly taskRunId?: string;
  /** the replica that made it (so a replica can ignore its own) */
  readonly origin?: string;
}

/**
 * Notifications between processes sharing the store. On PostgreSQL, `LISTEN`/`NOTIFY` on two
 * channels (control and live changes): `publish` batches what is published within a few
 * milliseconds into one notification per channel, and a subscriber gets every change published by
 * any process (its own included), at most once and as soon as it commits, or a `resync` when its
 * connection was lost (or, for a live subscriber, when the live channel was just listened to:
 * changes published just before may have been missed). On SQLite (one process)
 * the changes go to this process's subscribers. A failed send is sent again. Best effort still
 * (a process that dies between its commit and its send never sends): a missed change only delays
 * the one who waits for it, since everyone also polls slowly (claimers, run streams at each
 * heartbeat).
 */
export interface ChangeFeed {
  /** true when other processes may share the store (PostgreSQL) */
  readonly shared: boolean;
  publish(change: Change): void;
  /** Receive every change (or only control changes); returns the function that stops it. */
  subscribe(listener: (change: Change) => void, options?: SubscribeOptions): () => void;
}

/** How many rows one retention pass deleted. */
export interface Removed {
  readonly runs: number;
  /** kept workspaces removed because they expired */
  readonly workspaces: number;
  readonly logLines: number;
  readonly events: number;
  readonly inbox: number;
}

/**
 * Deleting old data, in batches (each a short transaction, so replicas keep working meanwhile).
 * Times are epoch ms; each method deletes at most `limit` of its kind and resolves with how many.
 */
export interface RetentionStore {
  /**
   * Runs that ended before `before`, with everything of theirs: task runs, statuses, log lines,
   * transitions, outbox events and their deliveries. A run whose workspace is kept until a time
   * stays until the workspace expired (`expireWorkspaces`), so that it is never left behind.
   */
  deleteRuns(before: number, limit: number): Promise<number>;
  /** The log lines of the task runs of runs that ended before `before` (the runs stay). */
  deleteLogs(before: number, limit: number): Promise<number>;
  /**
   * Outbox events created before `before` that every sink has (no delivery `pending` or `dead`),
   * with their delivery rows.
   */
  deleteEvents(before: number, limit: number): Promise<number>;
  /** Incoming CDEvents received before `before` (their deduplication window is over). */
  deleteInbox(before: number, limit: number): Promise<number>;
  /**
   * Up to `limit` runs whose kept workspace expired at `now` (`RunWorkspaceInfo.expiresAt`),
   * oldest first, except those a run that has not ended starts from (a rerun copying it).
   */
  expiredWorkspaces(now: number, limit: number): Promise<string[]>;
  /**
   * Record that run `runId`'s kept workspace was removed (`kept` → `expired`); false when it was
   * not kept (already expired, or never kept).
   */
  markWorkspaceExpired(runId: string): Promise<boolean>;
}
