import { messageOf } from '../domain/errors.js';
import { isRunEnded, isTaskEnded } from '../domain/states.js';
import type { Executor, LogLine, RunResources, RunningRef } from '../executor/executor.js';
import { parseCoutLine } from '../protocol/cout.js';
import type { LogStore, TaskRunRecord } from '../store/types.js';
import type { EngineContext } from './engine-context.js';
import { recordTaskMove } from './record-move.js';
import { TaskAttempt, type AttemptInput, type AttemptOutcome } from './task-attempt.js';

/** Stored log lines are read back in pages of this many. */
const PAGE = 1000;

/**
 * After a restart, carry on a task run that a previous engine process left unfinished
 * (`pending`, `starting` or `running`):
 * - when its executor still has the component (`list()` names the task run), re-attach it
 *   through `TaskAttempt.resume`: output resumes after the last stored line (the lines of that
 *   second the store already holds are not stored twice), `[COUT]` outputs already stored
 *   count, callbacks are accepted again under the same token, the timeout counts from the
 *   original start, and the attempt ends, is recorded and cleaned up as any other;
 * - otherwise (the component is gone, its executor cannot outlive the engine or is not
 *   configured any more, or the runtime cannot be reached), record it `errored` with a reason
 *   starting `lost:` and remove whatever is left of it (`destroy` resolves once it is gone).
 * `input` is the attempt's input as the run would build it for `task.attempt`. Returns the
 * outcome; the caller retries per the action's policy as after any attempt, except when the
 * outcome says `retryable: false`: the old attempt may still be running (its executor cannot
 * be asked, or failed to remove it), and two attempts of one action never run at once.
 */
export async function resumeTaskRun(
  ctx: EngineContext,
  input: AttemptInput,
  task: TaskRunRecord,
): Promise<AttemptOutcome> {
  let executor: Executor;
  try {
    executor = ctx.executors.get(task.executor);
  } catch {
    return recordLost(ctx, input, task, `its executor ${task.executor} is not configured in this engine`, {
      unsure: true,
    });
  }
  let found: RunningRef | undefined;
  try {
    found = (await executor.list()).find((ref) => ref.taskRunId === task.id);
  } catch (error) {
    return recordLost(ctx, input, task, `cannot reach its executor: ${messageOf(error)}`, { unsure: true });
  }
  if (found === undefined || task.state === 'pending') {
    return recordLost(ctx, input, task, 'the engine restarted while it ran and its component is gone', {
      executor,
      found,
    });
  }
  const ref = found.ref;
  const release = await ctx.slots.acquire();
  try {
    const stored = await storedOutput(ctx.store.logs, task.id);
    const sinceMs = stored.lastAt ?? task.startedAt ?? task.createdAt;
    const elapsed = ctx.clock() - (task.startedAt ?? ctx.clock());
    const outcome = await new TaskAttempt(ctx, input).resume(task, {
      attach: (onLog) => executor.attach(ref, skipStoredLines(onLog, stored.lastSecond), sinceMs),
      destroy: (name) => executor.destroy(name),
      stdout: stored.cout,
      timeoutMs: input.action.timeoutMs - elapsed,
    });
    if (outcome !== undefined) return outcome;
    return await recordLost(ctx, input, task, 'the engine restarted and could not re-attach it', { executor, found });
  } catch (error) {
    return recordLost(ctx, input, task, `re-attaching failed: ${messageOf(error)}`, { executor, found });
  } finally {
    release();
  }
}

/** What `reclaimLeftovers` uses of an engine's context (a CLI with no engine builds just this). */
export type LeftoverContext = Pick<EngineContext, 'store' | 'executors' | 'warn' | 'keepWorkspace'>;

/**
 * On engine start, before runs resume: remove what every executor still holds for task runs
 * that have ended, that belong to a run that has ended, or that the store does not know (a
 * crash between creating a container and recording it). What belongs to unfinished task runs of
 * unfinished runs is left for their run to re-attach. Then release the run-scoped resources
 * (`Executor.listRuns`) of runs that have ended or that the store does not know, unless they
 * were kept on purpose. Failures are warned, never thrown.
 */
export async function reclaimLeftovers(ctx: LeftoverContext): Promise<void> {
  for (const executor of ctx.executors.all()) {
    await reclaimTasks(ctx, executor);
    await reclaimRuns(ctx, executor);
  }
}

async function reclaimRuns(ctx: LeftoverContext, executor: Executor): Promise<void> {
  let held: RunResources[];
  try {
    held = await executor.listRuns();
  } catch (error) {
    ctx.warn(`recovery: cannot list the run resources executor ${executor.name} holds: ${messageOf(error)}`);
    return;
  }
  for (const { runId, kept } of held) {
    if (kept) continue;
    const run = await ctx.store.runs.get(runId);
    if (run !== undefined && !isRunEnded(run.state)) continue;
    await executor
      .releaseRun(runId, { keep: ctx.keepWorkspace })
      .catch((error: unknown) =>
        ctx.warn(`recovery: cannot release the resources of run ${runId} on ${executor.name}: ${messageOf(error)}`),
      );
  }
}

async function reclaimTasks(ctx: LeftoverContext, executor: Executor): Promise<void> {
  let refs: RunningRef[];
  try {
    refs = await executor.list();
  } catch (error) {
    ctx.warn(`recovery: cannot list what executor ${executor.name} holds: ${messageOf(error)}`);
    return;
  }
  for (const ref of refs) {
    const task = ref.taskRunId === '' ? undefined : await ctx.store.taskRuns.get(ref.taskRunId);
    if (task !== undefined && !isTaskEnded(task.state)) {
      const run = await ctx.store.runs.get(task.runId);
      if (run !== undefined && !isRunEnded(run.state)) continue;
    }
    await executor
      .destroy(ref.ref)
      .catch((error: unknown) => ctx.warn(`recovery: cannot remove ${ref.ref}: ${messageOf(error)}`));
  }
}

/**
 * Record an unfinished task run as ended `errored` (`lost: why`), after removing what is left of
 * it (`left`). When that could not be made sure of (`unsure`: its executor cannot be asked; or
 * the removal failed), the outcome is not retryable and the reason says why.
 */
async function recordLost(
  ctx: EngineContext,
  input: AttemptInput,
  task: TaskRunRecord,
  why: string,
  left: { readonly executor?: Executor; readonly found?: RunningRef; readonly unsure?: boolean } = {},
): Promise<AttemptOutcome> {
  let reason = `lost: ${why}`;
  let retryable = left.unsure !== true;
  const { executor, found } = left;
  if (executor !== undefined && found !== undefined) {
    try {
      await executor.destroy(found.ref);
    } catch (error) {
      ctx.warn(`could not clean up ${found.ref}: ${messageOf(error)}`);
      reason += `; it could not be stopped (${messageOf(error)})`;
      retryable = false;
    }
  }
  if (!retryable) reason += '; not retried: its previous attempt may still be running';
  const current = (await ctx.store.taskRuns.get(task.id)) ?? task;
  if (isTaskEnded(current.state)) return { state: current.state, output: current.output, taskRunId: task.id };
  const patch = { reason, endedAt: ctx.clock() };
  await recordTaskMove(ctx, input.run, current, [current.state], 'errored', patch);
  return { state: 'errored', output: {}, taskRunId: task.id, ...(retryable ? {} : { retryable: false }) };
}

/** What the store holds of a task run's output: its `[COUT]` lines, and its last second of lines. */
interface StoredOutput {
  /** stdout lines that are `[COUT]` lines, in order */
  readonly cout: string[];
  /** `at` of the last stored line (epoch ms), if any */
  readonly lastAt: number | undefined;
  /** the stored lines of the last line's second, in order */
  readonly lastSecond: Pick<LogLine, 'stream' | 'line'>[];
}

async function storedOutput(logs: LogStore, taskRunId: string): Promise<StoredOutput> {
  const cout: string[] = [];
  let lastSecond: Pick<LogLine, 'stream' | 'line'>[] = [];
  let lastAt: number | undefined;
  for (let after = 0; ;) {
    const page = await logs.read(taskRunId, after, PAGE);
    for (const record of page) {
      if (record.stream === 'stdout' && parseCoutLine(record.line) !== undefined) cout.push(record.line);
      if (lastAt === undefined || Math.floor(record.at / 1000) !== Math.floor(lastAt / 1000)) lastSecond = [];
      lastSecond.push({ stream: record.stream, line: record.line });
      lastAt = record.at;
      after = record.seq;
    }
    if (page.length < PAGE) break;
  }
  return { cout, lastAt, lastSecond };
}

/**
 * `onLog` without the lines already stored: a runtime resumes output at a whole second, so the
 * first lines it delivers may be ones the store holds (those of `stored`, in order per stream).
 * While a stream's first lines match what is stored they are dropped; the first line that
 * matches nothing stored ends the skipping for that stream.
 */
export function skipStoredLines(
  onLog: (line: LogLine) => void,
  stored: readonly Pick<LogLine, 'stream' | 'line'>[],
): (line: LogLine) => void {
  const pending = {
    stdout: stored.filter((l) => l.stream === 'stdout').map((l) => l.line),
    stderr: stored.filter((l) => l.stream === 'stderr').map((l) => l.line),
  };
  return (line) => {
    const queue = pending[line.stream];
    if (queue.length > 0) {
      const at = queue.indexOf(line.line);
      if (at >= 0) {
        queue.splice(0, at + 1);
        return;
      }
      queue.length = 0;
    }
    onLog(line);
  };
}
