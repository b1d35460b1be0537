/**
 * Run and task-run states, and the only transitions allowed between them.
 * Pure: the engine asks `canMoveRun`/`canMoveTask` before it records anything.
 */

/** States of a run. */
export type RunState =
  /** recorded, waiting for the scheduler (or for an instance slot) */
  | 'queued'
  /** the scheduler is walking its stages */
  | 'running'
  /** every stage succeeded (skipped actions count as success) */
  | 'succeeded'
  /** an action failed: the component's own verdict */
  | 'failed'
  /** the engine could not carry it out: executor error, run timeout, lost task */
  | 'errored'
  /** stopped on request (Ctrl-C, API) */
  | 'cancelled';

/** States of a task run (one attempt of one action). */
export type TaskRunState =
  /** recorded; its event data is rendered, the executor has not been asked yet */
  | 'pending'
  /** the executor is creating the process, container or pod */
  | 'starting'
  /** the process, container or pod exists and runs */
  | 'running'
  /** the component reported success (or exited 0 without a result), or a cache hit reused one */
  | 'succeeded'
  /** the component reported failure, exited non-zero, broke a strict contract, or timed out */
  | 'failed'
  /** the engine could not run it: image missing, spawn failure, executor lost it */
  | 'errored'
  /** stopped on request, or because a sibling failed under `failFast` */
  | 'cancelled'
  /** its `if:` was false, or an earlier stage did not succeed */
  | 'skipped';

export const RUN_STATES: readonly RunState[] = ['queued', 'running', 'succeeded', 'failed', 'errored', 'cancelled'];
export const TASK_RUN_STATES: readonly TaskRunState[] = [
  'pending',
  'starting',
  'running',
  'succeeded',
  'failed',
  'errored',
  'cancelled',
  'skipped',
];

const RUN_MOVES: Record<RunState, readonly RunState[]> = {
  queued: ['running', 'cancelled', 'errored'],
  running: ['succeeded', 'failed', 'errored', 'cancelled'],
  succeeded: [],
  failed: [],
  errored: [],
  cancelled: [],
};

const TASK_MOVES: Record<TaskRunState, readonly TaskRunState[]> = {
  // pending → succeeded: a cache hit, recorded without running
  pending: ['starting', 'skipped', 'cancelled', 'errored', 'succeeded'],
  starting: ['running', 'errored', 'cancelled', 'failed'],
  running: ['succeeded', 'failed', 'errored', 'cancelled'],
  succeeded: [],
  failed: [],
  errored: [],
  cancelled: [],
  skipped: [],
};

/** May a run move from `from` to `to`? */
export function canMoveRun(from: RunState, to: RunState): boolean {
  return RUN_MOVES[from].includes(to);
}

/** May a task run move from `from` to `to`? */
export function canMoveTask(from: TaskRunState, to: TaskRunState): boolean {
  return TASK_MOVES[from].includes(to);
}

/** Has the run ended (no transition leaves this state)? */
export function isRunEnded(state: RunState): boolean {
  return RUN_MOVES[state].length === 0;
}

/** Has the task run ended (no transition leaves this state)? */
export function isTaskEnded(state: TaskRunState): boolean {
  return TASK_MOVES[state].length === 0;
}

/** CDEvents outcome of an ended run or task run. */
export type Outcome = 'success' | 'failure' | 'error' | 'cancel';

/** The CDEvents `outcome` for an ended state (`skipped` counts as success). */
export function outcomeOf(state: RunState | TaskRunState): Outcome | undefined {
  switch (state) {
    case 'succeeded':
    case 'skipped':
      return 'success';
    case 'failed':
      return 'failure';
    case 'errored':
      return 'error';
    case 'cancelled':
      return 'cancel';
    default:
      return undefined;
  }
}
