import { LeaseLostError, messageOf } from '../domain/errors.js';
import { isTaskEnded, outcomeOf } from '../domain/states.js';
import type { ReplicaRecord, RunRecord, Store } from '../store/types.js';
import type { RunEventBuilder } from './ports.js';
import { movedRun } from './record-move.js';

/** What `endAbandonedRuns` needs. */
export interface AbandonedRunsDeps {
  readonly store: Store;
  /** the CDEvents of the ends it records */
  readonly events: RunEventBuilder;
  readonly clock: () => number;
  /** how long the ended run's workspace is kept for a rerun (`workspaceRetention`; 0: not kept) */
  readonly workspaceRetentionMs: number;
  /** whether a replica that still holds its lease is gone all the same (its process died on this host) */
  readonly isGone?: (replica: ReplicaRecord) => Promise<boolean>;
  readonly warn: (message: string) => void;
}

/**
 * End the runs that a `pilotage run` process left unfinished when it died (a `kill -9`, a crash,
 * a closed terminal), queued ones it waited for included (`NewRun.waiter`). Such a process is a
 * replica that serves no API (`url` null): its lease expires when it dies, and no other
 * `pilotage run` carries its runs on, since it held their `--secret` values and its terminal, and
 * the user is no longer waiting for it. Each run it held
 * (its child runs too) ends `errored` with a reason naming the process, every task run that had
 * not ended ends `errored` (`lost`), with their CDEvents, and the run's workspace is kept for a
 * rerun like any run that did not succeed. The writes go through the dead replica's owner check,
 * so a `pilotage serve` that takes a run over first (it resumes runs of dead replicas) wins, and
 * two processes ending one run never both do. Runs of a dead `serve` replica are left for the
 * next `serve` to resume. Resolves with the runs ended; failures are warned.
 */
export async function endAbandonedRuns(deps: AbandonedRunsDeps): Promise<RunRecord[]> {
  const waited = await deps.store.leases.waitedQueued();
  const waiters = new Set(waited.map((w) => w.waiter));
  const dead = new Map<string, ReplicaRecord>();
  for (const replica of await deps.store.replicas.list()) {
    if (replica.url !== null || (replica.runs === 0 && !waiters.has(replica.id))) continue;
    if (replica.alive && !(deps.isGone !== undefined && (await deps.isGone(replica)))) continue;
    dead.set(replica.id, replica);
  }
  if (dead.size === 0) return [];
  const ended: RunRecord[] = [];
  // the queued runs a dead process waited for: nobody holds them, nobody else may claim them
  for (const { runId, waiter } of waited) {
    const replica = dead.get(waiter);
    const run = replica === undefined ? undefined : await deps.store.runs.get(runId);
    if (replica === undefined || run === undefined) continue;
    try {
      const done = await endWaited(deps, run, replica);
      if (done !== undefined) ended.push(done);
    } catch (error) {
      deps.warn(`run ${run.id}: could not end it: ${messageOf(error)}`);
    }
  }
  for (const run of await deps.store.runs.listByState(['queued', 'running'])) {
    const replica = run.owner === null ? undefined : dead.get(run.owner);
    if (replica === undefined) continue;
    try {
      const done = await endRun(deps, run, replica);
      if (done !== undefined) ended.push(done);
    } catch (error) {
      if (error instanceof LeaseLostError) continue; // a serve took it over first: it carries it on
      deps.warn(`run ${run.id}: could not end it: ${messageOf(error)}`);
    }
  }
  return ended;
}

/** End queued `run`, which dead `pilotage run` process `replica` waited to claim. */
async function endWaited(
  deps: AbandonedRunsDeps,
  run: RunRecord,
  replica: ReplicaRecord,
): Promise<RunRecord | undefined> {
  const reason = `the pilotage run process waiting to carry it ended before it could start (pid ${replica.pid} on ${replica.host}: killed or crashed)`;
  const at = deps.clock();
  deps.events.resume?.(run, await deps.store.outbox.listByRun(run.id));
  const next = movedRun(run, 'errored', { reason, endedAt: at });
  const events = deps.events.runFinished(next, outcomeOf('errored') ?? 'error', reason);
  if (!(await deps.store.leases.endQueued(run.id, 'errored', at, reason, events))) return undefined;
  deps.store.changes.publish({ kind: 'run', runId: run.id });
  deps.store.changes.publish({ kind: 'freed', runId: run.id });
  return next;
}

/** End `run`, held by dead replica `replica`, and the task runs of it that had not ended. */
async function endRun(deps: AbandonedRunsDeps, run: RunRecord, replica: ReplicaRecord): Promise<RunRecord | undefined> {
  const view = deps.store.ownedBy(replica.id);
  const reason = `the pilotage run process carrying it ended without finishing it (pid ${replica.pid} on ${replica.host}: killed or crashed)`;
  const at = deps.clock();
  // its final events link to the ones the dead process wrote, with their source and URIs
  deps.events.resume?.(run, await deps.store.outbox.listByRun(run.id));
  for (const task of await deps.store.taskRuns.listByRun(run.id)) {
    if (isTaskEnded(task.state)) continue;
    const patch = { reason: `lost: ${reason}`, endedAt: at };
    const next = { ...task, ...patch, state: 'errored' as const };
    const events = task.state === 'pending' ? [] : deps.events.taskFinished(run, next, 'error', patch.reason);
    await view.taskRuns.transition(task.id, [task.state], 'errored', at, patch, events);
  }
  const kept = deps.workspaceRetentionMs > 0 ? { workspaceKept: { expiresAt: at + deps.workspaceRetentionMs } } : {};
  const patch = { reason, endedAt: at, ...kept };
  const next = movedRun(run, 'errored', patch);
  const events = deps.events.runFinished(next, outcomeOf('errored') ?? 'error', reason);
  if (!(await view.runs.transition(run.id, ['queued', 'running'], 'errored', at, patch, events))) return undefined;
  deps.store.changes.publish({ kind: 'run', runId: run.id });
  deps.store.changes.publish({ kind: 'freed', runId: run.id });
  return next;
}
