import { messageOf } from '../domain/errors.js';
import { retryDelayMs, shouldRetry } from '../domain/retry.js';
import type { TaskRunState } from '../domain/states.js';
import { isTaskEnded } from '../domain/states.js';
import { evaluateCondition } from '../plan/render.js';
import type { PlanAction } from '../plan/types.js';
import type { MatrixPlace, TaskRunRecord } from '../store/types.js';
import type { Cancellation } from './cancellation.js';
import type { TraceSpan } from './ports.js';
import { recordEnded } from './record-ended.js';
import { resumeTaskRun } from './reattach.js';
import type { ActionOutcome, RunHost } from './run-host.js';
import type { CacheTarget } from './action-cache.js';
import { cacheKeyOf, recordCacheHit } from './cache-hit.js';
import { ChildRunAttempt } from './child-run-attempt.js';
import { TaskAttempt, type AttemptInput, type AttemptOutcome } from './task-attempt.js';

/**
 * Run every attempt of one action, or of one combination of a matrix action (`place`; `action`
 * is then the combination's, named `build (linux, 18)`). Level-triggered: an action that already
 * ended in this run (a restart, a rerun's reused result) keeps its outcome; an unfinished attempt
 * is re-attached or recorded lost (reattach.ts). Then `if:`, then attempts with retries and
 * backoff until one succeeds, the policy gives up or `stop` fires. Never throws for what a
 * component does: that is a state. Its attempts' spans and CDEvents hang off `span`.
 */
export async function runAction(
  host: RunHost,
  action: PlanAction,
  stop: Cancellation,
  span: TraceSpan,
  place?: MatrixPlace,
): Promise<ActionOutcome> {
  const prior = attemptsOf(host.existing, action.name);
  const last = prior.at(-1);
  if (last && isTaskEnded(last.state) && !shouldRetry(action.retries, last.attempt, last.state)) {
    return { state: last.state, output: last.output };
  }
  if (last && !isTaskEnded(last.state)) {
    // a restart found it unfinished: re-attach its component, or record it lost (reattach.ts)
    const input = attemptInput(host, action, last.attempt, last.executor, stop, span, place);
    const resumed = action.uses
      ? await new ChildRunAttempt(host.ctx, input, calledWorkflow(host, action)).resume(last)
      : await resumeTaskRun(host.ctx, input, last);
    const retry = resumed.retryable !== false && shouldRetry(action.retries, last.attempt, resumed.state);
    if (stop.stopped || !retry) {
      return { state: resumed.state, output: resumed.output };
    }
  }
  let attempt = (last?.attempt ?? 0) + 1;
  const recorded = { span, ...(place === undefined ? {} : { matrix: place }) };

  if (action.if && attempt === 1) {
    let pass: boolean;
    try {
      pass = evaluateCondition(action.if, host.context(place?.values));
    } catch (error) {
      return ended(await recordEnded(host, action, 'errored', `if: ${messageOf(error)}`, recorded));
    }
    if (!pass) return ended(await recordEnded(host, action, 'skipped', `if: ${action.if.source} was false`, recorded));
  }

  // the cache is looked up before a first attempt only: a retry or a resumed run runs for real
  let cached: { readonly key: string; readonly target: CacheTarget } | undefined;
  if (action.cache && attempt === 1) {
    const key = cacheKeyOf(host, action, place);
    if (key instanceof Error) return ended(await recordEnded(host, action, 'errored', key.message, recorded));
    const target = await cacheTarget(host, action);
    if (target !== undefined) {
      const entry = await host.ctx.cache.lookup(key, target, action.cache.paths).catch((error: unknown) => {
        host.ctx.warn(`action cache: ${action.name}: could not restore its files (${messageOf(error)}); running it`);
        return undefined;
      });
      if (entry !== undefined) return recordCacheHit(host, action, entry, key, span, place);
      cached = { key, target };
    }
  }

  let outcome: AttemptOutcome | undefined;
  for (;;) {
    if (attempt > 1 && !(await stop.sleep(retryDelayMs(action.retries, attempt)))) break;
    outcome = await runAttempt(host, action, attempt, stop, span, place);
    if (stop.stopped || !shouldRetry(action.retries, attempt, outcome.state)) break;
    attempt += 1;
  }
  if (!outcome) {
    await recordEnded(host, action, 'cancelled', stop.reason?.message ?? 'cancelled', { attempt, ...recorded });
    return ended('cancelled');
  }
  if (cached !== undefined && action.cache && outcome.state === 'succeeded') {
    const task = { id: outcome.taskRunId, runId: host.run.id, action: action.name, workflow: host.run.workflow };
    await host.ctx.cache
      .save(cached.key, task, host.masker.json(outcome.output), cached.target, action.cache.paths)
      .catch((error: unknown) => host.ctx.warn(`action cache: could not save ${action.name}: ${messageOf(error)}`));
  }
  return { state: outcome.state, output: outcome.output };
}

/**
 * One attempt: a component within the run's and the engine's caps of running actions, or a
 * child run (which holds no process: it takes no slot, so that its own actions can).
 */
async function runAttempt(
  host: RunHost,
  action: PlanAction,
  attempt: number,
  stop: Cancellation,
  span: TraceSpan,
  place: MatrixPlace | undefined,
): Promise<AttemptOutcome> {
  const executor = action.uses ? 'none' : host.executorOf(action);
  const input = attemptInput(host, action, attempt, executor, stop, span, place);
  if (action.uses) return new ChildRunAttempt(host.ctx, input, calledWorkflow(host, action)).run();
  const releaseRun = await host.slots.acquire();
  const releaseEngine = await host.ctx.slots.acquire();
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    releaseEngine();
    releaseRun();
  };
  try {
    return await new TaskAttempt(host.ctx, { ...input, componentEnded: release }).run();
  } finally {
    release();
  }
}

/** The plan an action `uses:` (from the root plan's `workflows`), and what its child run records. */
function calledWorkflow(host: RunHost, action: PlanAction): ConstructorParameters<typeof ChildRunAttempt>[2] {
  const key = action.uses!.key;
  const workflows = host.plan.workflows ?? {};
  const called = workflows[key];
  if (called === undefined) throw new Error(`the plan holds no workflow "${key}" for action ${action.name}`);
  const stored = /@(\d+)$/.exec(key)?.[1];
  return {
    plan: { ...called, workflows },
    workflowVersion: stored ?? called.version ?? null,
    secrets: host.secrets,
  };
}

/**
 * Where the action's cached paths are restored and saved from: the run's workspace on its
 * executor as a folder of this host, or through the executor's `copyPaths` (a claim). Undefined
 * (no cache for this attempt) when it is neither and the cache has paths to restore, or when it
 * cannot be prepared (the attempt then reports why).
 */
async function cacheTarget(host: RunHost, action: PlanAction): Promise<CacheTarget | undefined> {
  if (action.cache?.paths.length === 0) return { dir: '' };
  try {
    const name = host.executorOf(action);
    const workspace = await host.workspaceOn(name);
    if (workspace.hostDir !== undefined) return { dir: workspace.hostDir };
    const executor = host.ctx.executors.get(name);
    if (executor.copyPaths !== undefined) {
      const runId = host.run.id;
      return { copy: (into, dir, paths) => executor.copyPaths!({ runId, workspace, into, dir, paths }) };
    }
    host.ctx.warn(
      `action cache: ${action.name}: its workspace is not a folder of this host and the ${name} executor cannot ` +
        'copy files into it, so cache.paths cannot be restored; not cached',
    );
    return undefined;
  } catch {
    return undefined;
  }
}

/** The attempts of `action` in `tasks`, oldest first. */
export function attemptsOf(tasks: readonly TaskRunRecord[], action: string): TaskRunRecord[] {
  return tasks.filter((t) => t.action === action).sort((a, b) => a.attempt - b.attempt);
}

/** What an attempt of `action` is given, its event data and env rendered now. */
function attemptInput(
  host: RunHost,
  action: PlanAction,
  attempt: number,
  executorName: string,
  stop: Cancellation,
  span: TraceSpan,
  place: MatrixPlace | undefined,
): AttemptInput {
  return {
    run: host.run,
    action,
    attempt,
    ...host.prepare(action, place?.values),
    // a called workflow runs in a child run: its attempt has no workspace of its own
    workspace: () =>
      action.uses ? Promise.reject(new Error('a called workflow has no workspace')) : host.workspaceOn(executorName),
    executorName,
    masker: host.masker,
    stop,
    span,
    ...(place === undefined ? {} : { matrix: place }),
  };
}

function ended(state: TaskRunState): ActionOutcome {
  return { state, output: {} };
}
