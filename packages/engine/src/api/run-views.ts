import type { LogLineInfo, RunInfo, StageOutline, StatusInfo, TaskRunInfo, TransitionInfo } from '@pilotage/api';
import { RUN_STATE_NAMES, TASK_RUN_STATE_NAMES } from '@pilotage/api';
import { RUN_STATES, TASK_RUN_STATES, type RunState, type TaskRunState } from '../domain/states.js';
import { CALL_COMPONENT_PREFIX } from '../plan/compile-uses.js';
import { planOutline } from '../plan/outline.js';
import type { Plan, PlanAction } from '../plan/types.js';
import type { LogRecord, RunRecord, StatusRecord, TaskRunRecord, TransitionRecord } from '../store/types.js';
import { taskRunWithoutInternals } from './server-internals.js';

/**
 * Build the API's views of runs, task runs, statuses, transitions and log lines (their schemas
 * are the contract's, in @pilotage/api) from store records. A run is shown without its compiled
 * plan (large, internal) but with its stage outline; a task run without its callback token hash.
 */

// The contract spells the states out for clients; the domain is the source of truth. These
// fail to compile when the two lists differ.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _runStatesMatch: Same<(typeof RUN_STATE_NAMES)[number], RunState> = true;
const _taskStatesMatch: Same<(typeof TASK_RUN_STATE_NAMES)[number], TaskRunState> = true;

/** True when the contract lists the same states, in the same order, as the domain. */
export function contractStatesMatch(): boolean {
  return RUN_STATE_NAMES.join() === RUN_STATES.join() && TASK_RUN_STATE_NAMES.join() === TASK_RUN_STATES.join();
}

export function runInfo(run: RunRecord): RunInfo {
  return {
    id: run.id,
    number: run.number,
    workflow: run.workflow,
    workflowVersion: run.workflowVersion,
    state: run.state,
    inputs: run.inputs,
    trigger: run.trigger,
    chainId: run.chainId,
    reason: run.reason,
    owner: run.owner,
    outputs: run.outputs,
    parent: run.parent,
    concurrencyGroup: run.concurrencyGroup,
    workspace: { ...run.workspace },
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

/**
 * A task run as the API shows it: never its token hash; its pid and server paths only when
 * `internals` (an admin token: see server-internals.ts).
 */
export function taskRunInfo(task: TaskRunRecord, internals = false): TaskRunInfo {
  const { tokenHash: _hidden, ...shown } = internals ? task : taskRunWithoutInternals(task);
  const childRunId = task.component.startsWith(CALL_COMPONENT_PREFIX) ? task.ref : null;
  return { ...shown, facts: { ...shown.facts }, steps: { ...shown.steps } as Record<string, number>, childRunId };
}

export function transitionInfo(t: TransitionRecord): TransitionInfo {
  return { from: t.from, to: t.to, at: t.at, reason: t.reason };
}

export function statusInfo(s: StatusRecord): StatusInfo {
  return { seq: s.seq, at: s.at, message: s.message, progress: s.progress, output: s.output };
}

export function logLineInfo(l: LogRecord): LogLineInfo {
  return { seq: l.seq, at: l.at, stream: l.stream, line: l.line };
}

/** The stage outline of a run, from the plan it recorded: what a live graph draws before anything runs. */
export function stageOutline(run: RunRecord): StageOutline {
  const plan = run.plan as unknown as Partial<Plan> | null;
  const planned = [...(plan?.stages ?? []), ...(plan?.finally ?? [])];
  return planOutline(plan).map((stage, s) => {
    const source = planned[s];
    const actions = source?.type === 'actions' ? source.actions : [];
    return {
      ...stage,
      actions: stage.actions.map((action, a) => ({ ...action, ...actionDetails(actions[a]) })),
    };
  });
}

/** What the editor and graph show of a planned action beyond its outline: component, needs, condition. */
function actionDetails(action: PlanAction | undefined): Partial<StageOutline[number]['actions'][number]> {
  if (action === undefined) return {};
  // an action that `uses:` a workflow runs no component of its own (its internal one is not shown)
  const component = action.uses === undefined ? action.component : undefined;
  return {
    ...(component === undefined ? {} : { component: `${component.name}@${component.version}` }),
    ...(action.needs === undefined || action.needs.length === 0 ? {} : { needs: [...action.needs] }),
    ...(action.if === undefined ? {} : { if: action.if.source }),
  };
}
