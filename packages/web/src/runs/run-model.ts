import type { RunDetail, RunInfo, RunStreamEvent, StageOutline, StatusInfo, TaskRunInfo } from '@pilotage/api';

/**
 * What the run page knows of a run, folded from `GET /v1/runs/:id` and the run's live stream.
 * Pure: `foldRunEvent` is unit-tested.
 */
export interface RunModel {
  readonly run: RunInfo;
  readonly stages: StageOutline;
  /** every task run (attempt) by id */
  readonly tasks: ReadonlyMap<string, TaskRunInfo>;
  /** TASK_STATUS reports per task run id, oldest first */
  readonly statuses: ReadonlyMap<string, readonly StatusInfo[]>;
  /** callbacks the server refused, newest last */
  readonly refused: readonly Extract<RunStreamEvent, { event: 'refused' }>['data'][];
}

/** Live TASK_STATUS reports kept per task run (the task panel pages older ones from the API). */
export const LIVE_STATUSES = 200;

const RANK: Record<string, number> = { pending: 0, starting: 1, running: 2 };
const rank = (state: string): number => RANK[state] ?? 3;

/** The model of a run detail answer. */
export function modelOfDetail(detail: RunDetail): RunModel {
  const tasks = new Map<string, TaskRunInfo>();
  const statuses = new Map<string, StatusInfo[]>();
  for (const action of detail.actions) {
    for (const { transitions: _t, statuses: s, ...task } of action.attempts) {
      tasks.set(task.id, task);
      statuses.set(task.id, [...s]);
    }
  }
  return { run: detail.run, stages: detail.stages, tasks, statuses, refused: [] };
}

/**
 * Fold one live event into the model. A task update never moves a task backwards (an event
 * replayed late after a snapshot), statuses are kept in seq order without duplicates.
 */
export function foldRunEvent(model: RunModel | undefined, message: RunStreamEvent): RunModel | undefined {
  switch (message.event) {
    case 'snapshot': {
      const tasks = new Map(model?.tasks ?? []);
      for (const task of message.data.tasks) tasks.set(task.id, newer(tasks.get(task.id), task));
      return {
        run: message.data.run,
        stages: message.data.stages,
        tasks,
        statuses: model?.statuses ?? new Map(),
        refused: model?.refused ?? [],
      };
    }
    case 'run':
    case 'end': {
      if (model === undefined) return undefined;
      const runRank = (state: string) => (state === 'queued' ? 0 : state === 'running' ? 1 : 2);
      return runRank(message.data.run.state) >= runRank(model.run.state) ? { ...model, run: message.data.run } : model;
    }
    case 'task': {
      if (model === undefined) return undefined;
      const tasks = new Map(model.tasks);
      tasks.set(message.data.task.id, newer(tasks.get(message.data.task.id), message.data.task));
      return { ...model, tasks };
    }
    case 'status': {
      if (model === undefined) return undefined;
      const { task, status } = message.data;
      const tasks = new Map(model.tasks);
      tasks.set(task.id, newer(tasks.get(task.id), task));
      const statuses = new Map(model.statuses);
      const list = statuses.get(task.id) ?? [];
      if (!list.some((s) => s.seq === status.seq)) {
        // the latest few only: a chatty task must not grow the page; older ones page in on demand
        statuses.set(task.id, [...list, status].sort((a, b) => a.seq - b.seq).slice(-LIVE_STATUSES));
      }
      return { ...model, tasks, statuses };
    }
    case 'refused':
      return model === undefined ? undefined : { ...model, refused: [...model.refused, message.data].slice(-50) };
    default:
      return model;
  }
}

/**
 * Of two versions of one task run, the one further along (the incoming one on a tie), with the
 * larger of their counts: counts only grow, and a live event may carry older ones than the detail.
 */
function newer(current: TaskRunInfo | undefined, incoming: TaskRunInfo): TaskRunInfo {
  if (current === undefined) return incoming;
  const chosen = rank(incoming.state) >= rank(current.state) ? incoming : current;
  const most = (pick: (t: TaskRunInfo) => number | undefined): number =>
    Math.max(pick(current) ?? 0, pick(incoming) ?? 0);
  return {
    ...chosen,
    statusCount: most((t) => t.statusCount),
    dropped: {
      statuses: most((t) => t.dropped?.statuses),
      logLines: most((t) => t.dropped?.logLines),
      logBytes: most((t) => t.dropped?.logBytes),
    },
  };
}

/** The attempts of each action, oldest first. */
export function attemptsByAction(model: RunModel): Map<string, TaskRunInfo[]> {
  const out = new Map<string, TaskRunInfo[]>();
  for (const task of model.tasks.values()) {
    const list = out.get(task.action) ?? [];
    list.push(task);
    out.set(task.action, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.attempt - b.attempt || a.createdAt - b.createdAt);
  return out;
}

/** The stage a run waits on for an approval, if any: an approval stage whose task runs. */
export function waitingApproval(model: RunModel): { stage: string; task: TaskRunInfo } | undefined {
  const byAction = attemptsByAction(model);
  for (const stage of model.stages) {
    if (stage.type !== 'approval') continue;
    const task = byAction.get(stage.name)?.at(-1);
    if (task !== undefined && task.state === 'running') return { stage: stage.name, task };
  }
  return undefined;
}

/** A stage's state from its actions' latest attempts: running, failed, succeeded… or undefined (not reached). */
export function stageState(states: readonly (string | undefined)[]): string | undefined {
  if (states.length === 0 || states.every((s) => s === undefined)) return undefined;
  if (states.some((s) => s === 'running' || s === 'starting')) return 'running';
  if (states.some((s) => s === 'failed')) return 'failed';
  if (states.some((s) => s === 'errored')) return 'errored';
  if (states.some((s) => s === 'cancelled')) return 'cancelled';
  if (states.every((s) => s === 'succeeded' || s === 'skipped')) {
    return states.every((s) => s === 'skipped') ? 'skipped' : 'succeeded';
  }
  return 'pending';
}

/** What a node of the run graph stands for, beyond its name. */
export interface NodeInfo {
  /** `name@version` of the component it runs (none for a `uses:` action) */
  readonly component?: string;
  /** the workflow it calls as a child run (`uses:` as written) */
  readonly uses?: string;
  /** for a matrix combination: its matrix action; for a matrix action not expanded yet: itself */
  readonly matrixOf?: string;
  /** for a matrix combination: its values */
  readonly values?: Readonly<Record<string, unknown>>;
}

/**
 * The stages the run graph draws, from the plan's outline and the task runs so far: a matrix
 * action is one node until its combinations exist, then one node per combination (named as its
 * task runs are, `build (linux, 20)`, in expansion order), and `needs` on a matrix action point
 * at all its combinations; finally stages are marked. Also what each node stands for.
 */
export function graphStages(model: RunModel): {
  stages: { name: string; type: string; finally: boolean; actions: { name: string; needs: string[] }[] }[];
  nodes: Map<string, NodeInfo>;
} {
  const combinations = new Map<string, { name: string; index: number; values: Record<string, unknown> }[]>();
  for (const task of model.tasks.values()) {
    if (task.matrix === null) continue;
    const list = combinations.get(task.matrix.action) ?? [];
    if (!list.some((c) => c.name === task.action)) {
      list.push({ name: task.action, index: task.matrix.index, values: task.matrix.values });
    }
    combinations.set(task.matrix.action, list);
  }
  for (const list of combinations.values()) list.sort((a, b) => a.index - b.index);
  const expand = (names: readonly string[]): string[] =>
    names.flatMap((name) => combinations.get(name)?.map((c) => c.name) ?? [name]);
  const nodes = new Map<string, NodeInfo>();
  const stages = model.stages.map((stage) => ({
    name: stage.name,
    type: stage.type,
    finally: stage.finally,
    actions: stage.actions.flatMap((action) => {
      const needs = expand(action.needs ?? []);
      const base: NodeInfo = {
        ...(action.component === undefined || action.uses !== null ? {} : { component: action.component }),
        ...(action.uses === null ? {} : { uses: action.uses }),
      };
      const combos = action.matrix ? (combinations.get(action.name) ?? []) : [];
      if (combos.length === 0) {
        nodes.set(action.name, { ...base, ...(action.matrix ? { matrixOf: action.name } : {}) });
        return [{ name: action.name, needs }];
      }
      return combos.map((combo) => {
        nodes.set(combo.name, { ...base, matrixOf: action.name, values: combo.values });
        return { name: combo.name, needs };
      });
    }),
  }));
  return { stages, nodes };
}
