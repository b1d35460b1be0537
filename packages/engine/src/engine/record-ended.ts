import { newId } from '../domain/ids.js';
import type { TaskRunState } from '../domain/states.js';
import type { PlanAction } from '../plan/types.js';
import type { MatrixPlace } from '../store/types.js';
import type { TraceSpan } from './ports.js';
import { recordTaskMove } from './record-move.js';
import type { RunHost } from './run-host.js';

/**
 * Record a task run of `action` that ended without running: `skipped` (an `if:` that was false,
 * a stage never reached), or `errored`/`cancelled` before it started. A skip is recorded in one
 * write and reports no CDEvent; the others move from `pending` with their `finished` event (on
 * `span`, the action's, when given).
 * Returns `state`.
 */
export async function recordEnded(
  host: RunHost,
  action: PlanAction,
  state: TaskRunState,
  reason: string,
  options: { readonly attempt?: number; readonly matrix?: MatrixPlace; readonly span?: TraceSpan } = {},
): Promise<TaskRunState> {
  const { ctx } = host;
  const at = ctx.clock();
  const component = action.component;
  const created = await ctx.store.taskRuns.create({
    id: newId(),
    runId: host.run.id,
    stage: action.stage,
    action: action.name,
    attempt: options.attempt ?? 1,
    component: `${component.name}@${component.version}`,
    executor: action.uses ? 'none' : host.executorOf(action),
    tokenHash: null,
    eventData: null,
    ...(state === 'skipped' ? { state: 'skipped' as const, reason } : {}),
    ...(options.matrix ? { matrix: options.matrix } : {}),
    createdAt: at,
  });
  if (state === 'skipped') ctx.emit({ kind: 'task', task: created });
  else await recordTaskMove(ctx, host.run, created, ['pending'], state, { reason, endedAt: at }, options.span);
  options.span?.set({ 'pilotage.reason': reason });
  return state;
}
