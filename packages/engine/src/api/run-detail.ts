import type { routes } from '@pilotage/api';
import type { Static } from '@sinclair/typebox';
import type { JsonObject } from '../domain/vocabulary.js';
import type { RunRecord, Store } from '../store/types.js';
import { runInfo, stageOutline, statusInfo, taskRunInfo, transitionInfo } from './run-views.js';

/** Latest statuses of each attempt a run detail carries unless asked otherwise. */
export const DETAIL_STATUSES = 20;
/** Latest transitions of the run and of each attempt a run detail carries unless asked otherwise. */
export const DETAIL_TRANSITIONS = 50;

/**
 * A run with every attempt of every action, each with its latest `history.statuses` statuses and
 * `history.transitions` transitions (and their counts), in four queries whatever its number of
 * task runs and however much they reported (run, task runs, transitions, statuses): the answer
 * grows with the number of attempts, never with a component's chattiness.
 */
export async function runDetail(
  store: Store,
  run: RunRecord,
  internals: boolean,
  history: { readonly statuses: number; readonly transitions: number },
): Promise<Static<(typeof routes.getRun.response)[200]>> {
  const [tasks, latest, statuses] = await Promise.all([
    store.taskRuns.listByRun(run.id),
    store.transitions.latestForRun(run.id, history.transitions),
    store.statuses.latestForRun(run.id, history.statuses),
  ]);
  const transitionsOf = groupBy(latest.transitions, (t) => t.entityId);
  const statusesOf = groupBy(statuses, (s) => s.taskRunId);
  const stages = stageOutline(run);
  const byAction = groupBy(tasks, (t) => t.action);
  const named = stages.flatMap((s) => s.actions.map((a) => ({ name: a.name, stage: s.name })));
  for (const [action, attempts] of byAction) {
    if (!named.some((n) => n.name === action)) named.push({ name: action, stage: attempts[0]!.stage });
  }
  const actions = named.map(({ name, stage }) => {
    const attempts = [...(byAction.get(name) ?? [])].sort((a, b) => a.attempt - b.attempt || a.createdAt - b.createdAt);
    return {
      name,
      stage,
      state: attempts.at(-1)?.state ?? null,
      attempts: attempts.map((task) => ({
        ...taskRunInfo(task, internals),
        transitions: (transitionsOf.get(task.id) ?? []).map(transitionInfo),
        transitionCount: latest.counts.get(task.id) ?? 0,
        statuses: (statusesOf.get(task.id) ?? []).map(statusInfo),
      })),
    };
  });
  const outputs: Record<string, JsonObject> = {};
  for (const action of actions) {
    const last = action.attempts.at(-1);
    if (last !== undefined) outputs[action.name] = last.output as JsonObject;
  }
  return {
    run: runInfo(run),
    stages,
    actions,
    transitions: (transitionsOf.get(run.id) ?? []).map(transitionInfo),
    transitionCount: latest.counts.get(run.id) ?? 0,
    outputs,
  };
}

/** `items` grouped by `key`, each group in the items' order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}
