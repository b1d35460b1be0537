import type { RunState, TaskRunState } from '../domain/states.js';
import { outcomeOf } from '../domain/states.js';
import type { NewOutboxEvent, RunPatch, RunRecord, TaskRunPatch, TaskRunRecord } from '../store/types.js';
import type { EngineContext } from './engine-context.js';

/**
 * Move a run from one of `from` to `to` in the store, with the outbox rows `events` builds from
 * the moved record (one transaction), then wake the delivery worker and tell listeners. Returns
 * the moved record, or undefined (nothing recorded, nobody told) when the run was no longer in
 * one of `from`.
 */
export async function recordRunMove(
  ctx: EngineContext,
  run: RunRecord,
  from: readonly RunState[],
  to: RunState,
  patch: RunPatch,
  events: (next: RunRecord) => NewOutboxEvent[],
): Promise<RunRecord | undefined> {
  const next: RunRecord = { ...run, ...definedOnly(patch), state: to };
  const rows = events(next);
  if (!(await ctx.store.runs.transition(run.id, from, to, ctx.clock(), patch, rows))) return undefined;
  if (rows.length > 0) ctx.eventsWritten();
  ctx.emit({ kind: 'run', run: next });
  return next;
}

/**
 * Move a task run of `run` from one of `from` to `to`, with its CDEvents (`taskMoveEvents`) in
 * the same transaction, then wake the delivery worker and tell listeners. Returns the moved
 * record, or undefined (nothing recorded, nobody told) when it was no longer in one of `from`.
 */
export async function recordTaskMove(
  ctx: EngineContext,
  run: RunRecord,
  task: TaskRunRecord,
  from: readonly TaskRunState[],
  to: TaskRunState,
  patch: TaskRunPatch,
): Promise<TaskRunRecord | undefined> {
  const next = { ...task, ...definedOnly(patch), state: to } as TaskRunRecord;
  const rows = taskMoveEvents(ctx, run, next);
  if (!(await ctx.store.taskRuns.transition(task.id, from, to, ctx.clock(), patch, rows))) return undefined;
  if (rows.length > 0) ctx.eventsWritten();
  ctx.emit({ kind: 'task', task: next });
  return next;
}

/**
 * The CDEvents of a task run that has just moved to `next.state`: `started` on `running`,
 * `finished` on an end (with its reason unless it succeeded), none for a skip (a task run that
 * never ran reports only its end; a skipped one reports nothing) nor for `pending`/`starting`.
 */
function taskMoveEvents(ctx: EngineContext, run: RunRecord, next: TaskRunRecord): NewOutboxEvent[] {
  if (next.state === 'running') return ctx.events.taskStarted(run, next);
  const outcome = outcomeOf(next.state);
  if (outcome === undefined || next.state === 'skipped') return [];
  return ctx.events.taskFinished(run, next, outcome, outcome === 'success' ? null : next.reason);
}

/** `patch` without its undefined fields, so spreading it over a record keeps the record's values. */
function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
