import type { RunState, TaskRunState } from '../domain/states.js';
import { outcomeOf } from '../domain/states.js';
import type {
  NewLogLine,
  NewOutboxEvent,
  PassedThrough,
  RunPatch,
  RunRecord,
  TaskRunPatch,
  TaskRunRecord,
} from '../store/types.js';
import type { EngineContext } from './engine-context.js';
import type { TraceSpan } from './ports.js';

/**
 * Move a run from one of `from` to `to` in the store, with the outbox rows `events` builds from
 * the moved record (one transaction), then wake the delivery worker and tell listeners; the
 * CDEvents written become events of `span`. Returns the moved record, or undefined (nothing
 * recorded, nobody told) when the run was no longer in one of `from`.
 */
export async function recordRunMove(
  ctx: EngineContext,
  run: RunRecord,
  from: readonly RunState[],
  to: RunState,
  patch: RunPatch,
  events: (next: RunRecord) => NewOutboxEvent[],
  span?: TraceSpan,
): Promise<RunRecord | undefined> {
  const next = movedRun(run, to, patch);
  const rows = events(next);
  if (!(await ctx.store.runs.transition(run.id, from, to, ctx.clock(), patch, rows))) return undefined;
  if (rows.length > 0) outboxWritten(ctx, rows, span);
  ctx.emit({ kind: 'run', run: next });
  return next;
}

/** A state a task run passed through without a write of its own, and what it recorded there. */
export interface PassedThroughMove extends PassedThrough {
  readonly patch: TaskRunPatch;
}

/**
 * Move a task run of `run` from one of `from` to `to`, with its CDEvents (`taskMoveEvents`) and
 * its last log lines `logs` (masked) in the same transaction, then wake the delivery worker and
 * tell listeners; the CDEvents written become events of `span`. `through`: a state it passed
 * through without a write of its own (`running`, for a component that ended before it was
 * recorded), entered at `through.at` with `through.patch`: its transition and its CDEvents come
 * first, in the same write, as if it had been recorded then. Returns the moved record, or
 * undefined (nothing moved, nobody told; the lines are stored) when it was no longer in one of
 * `from` (or, with `steps`, held another number of recorded contract steps: `TaskRunStore.transition`).
 */
export async function recordTaskMove(
  ctx: EngineContext,
  run: RunRecord,
  task: TaskRunRecord,
  from: readonly TaskRunState[],
  to: TaskRunState,
  patch: TaskRunPatch,
  span?: TraceSpan,
  logs?: readonly NewLogLine[],
  through?: PassedThroughMove,
  steps?: number,
): Promise<TaskRunRecord | undefined> {
  const passed =
    through === undefined ? task : ({ ...task, ...definedOnly(through.patch), state: through.state } as TaskRunRecord);
  const next = { ...passed, ...definedOnly(patch), state: to } as TaskRunRecord;
  const rows = [...(through === undefined ? [] : taskMoveEvents(ctx, run, passed)), ...taskMoveEvents(ctx, run, next)];
  const written = through === undefined ? patch : { ...through.patch, ...patch };
  if (!(await ctx.store.taskRuns.transition(task.id, from, to, ctx.clock(), written, rows, logs, through, steps)))
    return undefined;
  if (rows.length > 0) outboxWritten(ctx, rows, span);
  ctx.emit({ kind: 'task', task: next });
  return next;
}

/**
 * Outbox rows were committed: wake the delivery worker, and note each CDEvent (type and id) on
 * `span`, so a trace leads to the events and back.
 */
export function outboxWritten(ctx: EngineContext, rows: readonly NewOutboxEvent[], span: TraceSpan | undefined): void {
  ctx.eventsWritten();
  for (const row of rows) span?.event('cdevent', { 'cdevents.type': row.type, 'cdevents.id': row.id });
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

/** `run` as `RunStore.transition` leaves it after moving to `to` with `patch`. */
export function movedRun(run: RunRecord, to: RunState, patch: RunPatch): RunRecord {
  const { workspaceKept, ...fields } = patch;
  return {
    ...run,
    ...definedOnly(fields),
    state: to,
    ...(workspaceKept === undefined
      ? {}
      : { workspace: { ...run.workspace, state: 'kept' as const, expiresAt: workspaceKept.expiresAt } }),
  };
}

/** `patch` without its undefined fields, so spreading it over a record keeps the record's values. */
function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
