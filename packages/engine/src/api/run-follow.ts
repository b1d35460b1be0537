import type { Engine } from '../engine/engine.js';
import type { EngineUpdate } from '../engine/ports.js';
import type { Change, Store } from '../store/types.js';

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
        const status = (await store.statuses.list(change.taskRunId)).at(-1);
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
