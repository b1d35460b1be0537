import { messageOf } from '../domain/errors.js';
import type { Removed, Store } from '../store/types.js';

/** The lease the job takes (in `sink_leases`), so one replica at a time cleans up. */
export const CLEANUP_LEASE = 'job:cleanup';
/** Rows per batch (one short transaction each). */
const BATCH = 200;
/** How long one pass may go on before it leaves the rest to the next one, ms. */
const PASS_BUDGET_MS = 60_000;
/** The job's lease: longer than a pass, so that no other replica starts one meanwhile, ms. */
const LEASE_MS = 2 * PASS_BUDGET_MS;
/** Replicas whose lease ended this long ago, holding nothing, are forgotten, ms. */
const FORGET_REPLICAS_MS = 86_400_000;

/** What is kept, and how often to look (the config's `retain*Ms` and `cleanupIntervalMs`). */
export interface RetentionSettings {
  /** ended runs older than this go, with everything of theirs (0: kept) */
  readonly retainRunsMs: number;
  /** log lines of runs ended longer ago go (0: kept) */
  readonly retainLogsMs: number;
  /** delivered events older than this go (0: kept); incoming CDEvents' receipts too */
  readonly retainEventsMs: number;
  /** between passes (0: no pass) */
  readonly cleanupIntervalMs: number;
}

/**
 * Remove the kept workspaces that expired at `now` (`releaseWorkspace` on every executor), and
 * record each as `expired`, publishing the run's change; at most `limit`, oldest first, except
 * those a rerun that has not ended copies from. Resolves with how many; stops at the first that
 * could not be removed (warned; the next pass tries again).
 */
export async function expireWorkspaces(options: {
  readonly store: Store;
  readonly releaseWorkspace: (runId: string) => Promise<void>;
  readonly now: number;
  readonly limit: number;
  readonly log: { warn(message: string): void };
}): Promise<number> {
  const { store, log } = options;
  let removed = 0;
  for (const runId of await store.retention.expiredWorkspaces(options.now, options.limit)) {
    try {
      await options.releaseWorkspace(runId);
    } catch (error) {
      log.warn(`cleanup: ${messageOf(error)}`);
      break;
    }
    if (await store.retention.markWorkspaceExpired(runId)) {
      removed += 1;
      store.changes.publish({ kind: 'run', runId });
    }
  }
  return removed;
}

/** The cleanup job of one replica. */
export interface CleanupJob {
  /**
   * One pass now, if no other replica is in one (the job's lease): resolves with what it deleted,
   * or undefined when another replica held the lease.
   */
  runOnce(): Promise<Removed | undefined>;
  /** Stop the timer and wait for a pass under way. Safe to repeat. */
  stop(): Promise<void>;
}

/**
 * Start the cleanup job: a pass a minute after start (at most) and then every
 * `cleanupIntervalMs`, on every replica; a pass runs only on the replica that takes the job's
 * lease, so replicas never clean up together. A pass deletes, in batches of short transactions
 * (replicas keep working meanwhile) and for at most a minute: ended runs older than
 * `retainRunsMs` with everything of theirs; log lines of runs ended over `retainLogsMs` ago;
 * delivered events (every sink has them) and incoming CDEvent receipts older than
 * `retainEventsMs`; replicas gone for a day that hold nothing; kept workspaces that expired
 * (`expireWorkspaces`, before the runs: a run goes only once its workspace is gone). Errors are
 * logged, never thrown.
 */
export function startCleanupJob(options: {
  readonly store: Store;
  readonly settings: RetentionSettings;
  /** who takes the lease (this replica's id) */
  readonly owner: () => string;
  /**
   * removes a run's kept workspace on every executor (`releaseKeptWorkspace`); absent: kept
   * workspaces are left as they are
   */
  readonly releaseWorkspace?: (runId: string) => Promise<void>;
  readonly log: { info(message: string): void; warn(message: string): void };
  readonly clock?: () => number;
}): CleanupJob {
  const { store, settings, log } = options;
  const clock = options.clock ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<Removed | undefined> | undefined;
  let stopped = false;

  /** Delete with `remove` in batches until fewer than a batch are left or the budget is spent. */
  const drain = async (remove: (limit: number) => Promise<number>, deadline: number): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = await remove(BATCH);
      total += n;
      if (n === 0 || stopped || clock() > deadline) return total;
    }
  };

  const once = async (): Promise<Removed | undefined> => {
    const owner = options.owner();
    const start = clock();
    if (!(await store.sinkLeases.acquire(CLEANUP_LEASE, owner, start, start + LEASE_MS))) return undefined;
    try {
      const deadline = start + PASS_BUDGET_MS;
      const { retention } = store;
      const before = (keepMs: number): number => start - keepMs;
      const { releaseWorkspace } = options;
      let workspaces = 0;
      if (releaseWorkspace !== undefined) {
        for (;;) {
          const n = await expireWorkspaces({ store, releaseWorkspace, now: start, limit: BATCH, log });
          workspaces += n;
          if (n < BATCH || stopped || clock() > deadline) break;
        }
      }
      const runs =
        settings.retainRunsMs > 0
          ? await drain((n) => retention.deleteRuns(before(settings.retainRunsMs), n), deadline)
          : 0;
      const logLines =
        settings.retainLogsMs > 0
          ? await drain((n) => retention.deleteLogs(before(settings.retainLogsMs), n), deadline)
          : 0;
      const events =
        settings.retainEventsMs > 0
          ? await drain((n) => retention.deleteEvents(before(settings.retainEventsMs), n), deadline)
          : 0;
      const inbox =
        settings.retainEventsMs > 0
          ? await drain((n) => retention.deleteInbox(before(settings.retainEventsMs), n), deadline)
          : 0;
      await store.replicas.prune(FORGET_REPLICAS_MS);
      const removed = { runs, workspaces, logLines, events, inbox };
      if (runs + workspaces + logLines + events + inbox > 0) {
        log.info(
          `cleanup: deleted ${runs} run(s), ${workspaces} expired workspace(s), ${logLines} log line(s), ${events} event(s), ${inbox} CDEvent receipt(s)`,
        );
      }
      return removed;
    } finally {
      await store.sinkLeases.release(CLEANUP_LEASE, owner).catch(() => undefined);
    }
  };

  const runOnce = (): Promise<Removed | undefined> => {
    pass ??= once().finally(() => {
      pass = undefined;
    });
    return pass;
  };

  const schedule = (delayMs: number): void => {
    if (stopped || settings.cleanupIntervalMs <= 0) return;
    timer = setTimeout(() => {
      void runOnce()
        .catch((error: unknown) => log.warn(`cleanup: ${messageOf(error)}`))
        .finally(() => schedule(settings.cleanupIntervalMs));
    }, delayMs);
    timer.unref();
  };
  schedule(Math.min(60_000, settings.cleanupIntervalMs));

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass?.catch(() => undefined);
    },
  };
}
