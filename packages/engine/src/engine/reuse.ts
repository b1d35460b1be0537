import { ConflictError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { isRunEnded } from '../domain/states.js';
import type { Plan } from '../plan/types.js';
import type { RunRecord, TaskRunRecord } from '../store/types.js';
import type { EngineContext } from './engine-context.js';

/** Where a rerun starts: `failed` reuses what succeeded, `start` runs everything again. */
export type RerunFrom = 'failed' | 'start';

/**
 * Refuse a rerun of `run` from `from` that cannot be (ConflictError): the run has not ended, or
 * it succeeded and a rerun from the failed action would have nothing to run.
 */
export function assertRerunnable(run: RunRecord, from: RerunFrom): void {
  if (!isRunEnded(run.state)) {
    throw new ConflictError(`run ${run.id} is still ${run.state}; wait for its end or cancel it first`);
  }
  if (from === 'failed' && run.state === 'succeeded') {
    throw new ConflictError(
      `run ${run.id} succeeded: nothing failed to rerun; rerun from the start (--from start; API: "from": "start") to run it all again`,
    );
  }
}

/**
 * The results a rerun of an ended run reuses, by action name: with `failed`, the last attempt of
 * every action (and approval stage) that succeeded; with `start`, none. Everything else (failed,
 * errored, cancelled or skipped actions, and so every later stage, which a failure never lets
 * start) runs again. Stages run in order, so a succeeded action never follows a failed one:
 * "the failed actions and their successors" is exactly "what did not succeed".
 */
export function reusableResults(tasks: readonly TaskRunRecord[], from: RerunFrom): Map<string, TaskRunRecord> {
  const reuse = new Map<string, TaskRunRecord>();
  if (from === 'start') return reuse;
  const latest = new Map<string, TaskRunRecord>();
  for (const task of tasks) {
    const seen = latest.get(task.action);
    if (seen === undefined || task.attempt > seen.attempt) latest.set(task.action, task);
  }
  for (const [action, task] of latest) if (task.state === 'succeeded') reuse.set(action, task);
  return reuse;
}

/**
 * Record the reused results in `run` as task runs that are `succeeded` at once, with the earlier
 * output, message and event data, reason `reused from run <id>` and facts `reusedFrom` (the
 * earlier task run's id); no process starts and no CDEvent is written (nothing ran). Only
 * actions (and approval stages, and combinations of matrix actions) the plan has in the same
 * stage are reused, never those of finally stages (they run again). Written before the
 * run is carried out, so the run (and a recovery after a restart) finds them ended like any
 * action of its own that ended.
 */
export async function recordReused(
  ctx: EngineContext,
  run: RunRecord,
  plan: Plan,
  reuse: ReadonlyMap<string, TaskRunRecord>,
): Promise<TaskRunRecord[]> {
  const stageOf = new Map<string, string>();
  for (const stage of plan.stages) {
    if (stage.type === 'approval') stageOf.set(stage.name, stage.name);
    for (const action of stage.actions) stageOf.set(action.name, stage.name);
  }
  const recorded: TaskRunRecord[] = [];
  for (const [action, earlier] of reuse) {
    // a combination of a matrix belongs to its matrix action; finally actions always run again
    if (stageOf.get(earlier.matrix?.action ?? action) !== earlier.stage) continue;
    const at = ctx.clock();
    const reason = `reused from run ${earlier.runId}`;
    const created = await ctx.store.taskRuns.create({
      id: newId(),
      runId: run.id,
      stage: earlier.stage,
      action,
      attempt: 1,
      component: earlier.component,
      executor: earlier.executor,
      tokenHash: null,
      eventData: earlier.eventData,
      ...(earlier.matrix ? { matrix: earlier.matrix } : {}),
      createdAt: at,
    });
    const patch = {
      output: earlier.output,
      result: earlier.result ?? 'success',
      message: earlier.message,
      reason,
      exitCode: earlier.exitCode,
      facts: { reusedFrom: earlier.id },
      startedAt: at,
      endedAt: at,
    } as const;
    await ctx.store.taskRuns.transition(created.id, ['pending'], 'succeeded', at, patch);
    const task: TaskRunRecord = { ...created, ...patch, state: 'succeeded' };
    ctx.emit({ kind: 'task', task });
    recorded.push(task);
  }
  return recorded;
}
