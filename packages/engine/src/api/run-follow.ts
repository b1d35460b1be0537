import type { Engine } from '../engine/engine.js';
import type { EngineUpdate } from '../engine/ports.js';
import type { Change, ChangeKind, RunRecord, Store } from '../store/types.js';

/** What `followRun` needs. */
export interface FollowDeps {
  readonly engine: Engine;
  readonly store: Store;
}

/** The run an update is about. */
export function runIdOf(update: EngineUpdate): string {
  switch (update.kind) {
    case 'run':
      return update.run.id;
    case 'task':
    case 'status':
      return update.task.runId;
    case 'log':
    case 'refused':
      return update.runId;
  }
}

/**
 * Follow run `runId` from this replica, whichever replica carries it: this engine's own live
 * updates as they happen, and what other processes change (the store's change feed, whose
 * changes name ids only: the records are read again and given as the same updates; a `resync`
 * reads the run and all its task runs). Reads are made one at a time, in the order the changes
 * came. Log lines of other replicas are not given (log streams read the store); changes the
 * engine here made itself are not read twice. Returns the function that stops it.
 */
export function followRun(deps: FollowDeps, runId: string, listener: (update: EngineUpdate) => void): () => void {
  const { engine, store } = deps;
  let open = true;
  let reads: Promise<void> = Promise.resolve();
  const give = (update: EngineUpdate | undefined): void => {
    if (open && update !== undefined) listener(update);
  };
  const read = async (change: Change): Promise<void> => {
    switch (change.kind) {
      case 'run': {
        const run = await store.runs.get(runId);
        return give(run && { kind: 'run', run });
      }
      case 'task':
      case 'callback': {
        const task = change.taskRunId === undefined ? undefined : await store.taskRuns.get(change.taskRunId);
        return give(task && { kind: 'task', task });
      }
      case 'status': {
        if (change.taskRunId === undefined) return;
        const task = await store.taskRuns.get(change.taskRunId);
        const [status] = await store.statuses.read(change.taskRunId, { before: Infinity, limit: 1 });
        return give(task && status && { kind: 'status', task, status });
      }
      case 'resync': {
        const run = await store.runs.get(runId);
        for (const task of await store.taskRuns.listByRun(runId)) give({ kind: 'task', task });
        return give(run && { kind: 'run', run });
      }
      default:
        return;
    }
  };
  const offLocal = engine.subscribe((update) => {
    if (runIdOf(update) === runId) give(update);
  });
  const offRemote = store.changes.subscribe((change) => {
    if (change.kind !== 'resync' && change.runId !== runId) return;
    if (change.origin !== undefined && change.origin === engine.replicaId) return;
    reads = reads.then(() => read(change)).catch(() => undefined);
  });
  return () => {
    open = false;
    offLocal();
    offRemote();
  };
}

/** What `followRuns` gives: a run as it is now, or `resync` (changes may have been missed). */
export type RunsUpdate = { readonly kind: 'run'; readonly run: RunRecord } | { readonly kind: 'resync' };

/**
 * Follow every run from this replica, whichever replica changes it: this engine's own run
 * updates as they happen, and the runs other processes change (read again from the store, one
 * at a time in the order the changes came), so a list stays current on any replica. A `resync`
 * of the change feed is passed on: the listener should read its list again. Returns the
 * function that stops it.
 */
export function followRuns(deps: FollowDeps, listener: (update: RunsUpdate) => void): () => void {
  const { engine, store } = deps;
  let open = true;
  let reads: Promise<void> = Promise.resolve();
  const give = (update: RunsUpdate | undefined): void => {
    if (open && update !== undefined) listener(update);
  };
  const offLocal = engine.subscribe((update) => {
    if (update.kind === 'run') give(update);
  });
  const offRemote = store.changes.subscribe((change) => {
    if (change.kind === 'resync') return give({ kind: 'resync' });
    if (!RUN_CHANGES.has(change.kind) || change.runId === undefined) return;
    if (change.origin !== undefined && change.origin === engine.replicaId) return;
    const runId = change.runId;
    reads = reads
      .then(async () => {
        const run = await store.runs.get(runId);
        give(run && { kind: 'run', run });
      })
      .catch(() => undefined);
  });
  return () => {
    open = false;
    offLocal();
    offRemote();
  };
}

/** Changes after which a run's record may differ (queued: created; freed: ended or cancelled). */
const RUN_CHANGES: ReadonlySet<ChangeKind> = new Set<ChangeKind>(['run', 'queued', 'freed']);
