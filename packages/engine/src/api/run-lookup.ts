import { NotFoundError } from '../domain/errors.js';
import type { RunRecord, Store, TaskRunRecord } from '../store/types.js';

/** The run `id`; NotFoundError (404) when there is none. */
export async function mustGetRun(store: Store, id: string): Promise<RunRecord> {
  const run = await store.runs.get(id);
  if (run === undefined) throw new NotFoundError(`run ${id} not found`);
  return run;
}

/** The task run `taskRunId` of run `runId`; NotFoundError (404) when the run has no such task run. */
export async function mustGetTask(store: Store, runId: string, taskRunId: string): Promise<TaskRunRecord> {
  const task = await store.taskRuns.get(taskRunId);
  if (task === undefined || task.runId !== runId) {
    throw new NotFoundError(`run ${runId} has no task run ${taskRunId}`);
  }
  return task;
}
