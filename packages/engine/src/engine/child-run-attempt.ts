import { messageOf } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { setLongTimeout } from '../domain/long-timer.js';
import type { TaskRunState } from '../domain/states.js';
import { isRunEnded } from '../domain/states.js';
import type { JsonObject } from '../domain/vocabulary.js';
import type { Plan } from '../plan/types.js';
import type { RunRecord, TaskRunPatch, TaskRunRecord } from '../store/types.js';
import type { StopReason } from './cancellation.js';
import type { EngineContext } from './engine-context.js';
import type { ChildRunRequest } from './ports.js';
import { recordTaskMove } from './record-move.js';
import { reusableResults } from './reuse.js';
import type { AttemptInput, AttemptOutcome } from './task-attempt.js';

/**
 * One attempt of an action that `uses:` a workflow: a task run that starts a child run of the
 * called plan with the action's rendered `with:` as its event data, follows it to its end, and
 * ends as it did, with the child's declared outputs as its own. The task run's `ref` (and fact
 * `childRun`) is the child run's id. Cancelling the attempt (the parent's cancel, fail-fast,
 * the action's timeout) cancels the child. On the first attempt of a rerun from the failed
 * action, a child that failed before is rerun the same way: its succeeded actions are reused.
 */
export class ChildRunAttempt {
  private task!: TaskRunRecord;
  private stoppedBy: StopReason | undefined;
  private timedOut = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly input: AttemptInput,
    private readonly call: {
      readonly plan: Plan;
      readonly workflowVersion: string | null;
      readonly secrets: Readonly<Record<string, string>>;
    },
  ) {}

  async run(): Promise<AttemptOutcome> {
    const { ctx, input } = this;
    const { action, run } = input;
    const data = input.eventData instanceof Error ? null : input.eventData;
    this.task = await ctx.store.taskRuns.create({
      id: newId(),
      runId: run.id,
      stage: action.stage,
      action: action.name,
      attempt: input.attempt,
      component: `${action.component.name}@${action.component.version}`,
      executor: 'none',
      tokenHash: null,
      eventData: data === null ? null : input.masker.json(data),
      ...(input.matrix ? { matrix: input.matrix } : {}),
      createdAt: ctx.clock(),
    });
    ctx.emit({ kind: 'task', task: this.task });
    if (input.eventData instanceof Error) {
      return this.end('pending', 'errored', `could not build the event data: ${input.eventData.message}`);
    }
    if (input.stop.stopped) return this.end('pending', 'cancelled', input.stop.reason?.message ?? 'cancelled');
    await this.move(['pending'], 'starting', {});
    // running before the child exists: its `taskrun.started` event is what the child's events link to
    await this.move(['starting'], 'running', { startedAt: ctx.clock() });
    return this.startChild();
  }

  /**
   * Carry on the attempt `task` that a previous engine process left unfinished: follow its child
   * run (which recovery resumes on its own), or start it when the crash came before it existed.
   */
  async resume(task: TaskRunRecord): Promise<AttemptOutcome> {
    this.task = task;
    if (task.state === 'pending' || task.state === 'starting') {
      if (task.state === 'pending') await this.move(['pending'], 'starting', {});
      await this.move(['starting'], 'running', { startedAt: this.ctx.clock() });
    }
    const children = await this.ctx.store.runs.list({ parentRunId: task.runId, limit: 200 });
    const child = children.find((r) => r.parent?.taskRunId === task.id);
    return child === undefined ? this.startChild() : this.follow(child.id);
  }

  private async startChild(): Promise<AttemptOutcome> {
    const { ctx, input } = this;
    let child: RunRecord;
    try {
      const rerun = input.attempt === 1 ? await this.rerunOfEarlierChild() : undefined;
      child = await ctx.children.start({
        parent: input.run,
        taskRunId: this.task.id,
        plan: this.call.plan,
        workflowVersion: this.call.workflowVersion,
        data: input.eventData as JsonObject,
        secrets: this.call.secrets,
        ...(rerun ? { rerun } : {}),
        ...(input.span.context ? { traceParent: input.span.context } : {}),
      });
    } catch (error) {
      return this.end('running', 'errored', `could not start the called workflow: ${messageOf(error)}`);
    }
    const patch = { ref: child.id, facts: { childRun: child.id } };
    await ctx.store.taskRuns.update(this.task.id, patch);
    this.task = { ...this.task, ...patch };
    ctx.emit({ kind: 'task', task: this.task });
    return this.follow(child.id);
  }

  /** Wait for the child's end, cancelling it on a stop or the action's timeout. */
  private async follow(childId: string): Promise<AttemptOutcome> {
    const { ctx, input } = this;
    const elapsed = ctx.clock() - (this.task.startedAt ?? ctx.clock());
    const cancelTimeout = setLongTimeout(() => {
      this.timedOut = true;
      void ctx.children.cancel(childId, `cancelled: the calling action ${input.action.name} timed out`);
    }, input.action.timeoutMs - elapsed);
    // a replica letting go of the parent leaves the child alone: the parent's next holder follows it
    let abandoned: (reason: Error) => void = () => undefined;
    const letGo = new Promise<never>((_, reject) => (abandoned = reject));
    const offStop = input.stop.onStop((reason) => {
      this.stoppedBy = reason;
      if (reason.kind === 'abandon') {
        abandoned(new Error(`stopped following run ${childId}: ${reason.message}`));
        return;
      }
      void ctx.children.cancel(childId, `cancelled: its parent run ${input.run.id} stopped (${reason.message})`);
    });
    let child: RunRecord;
    try {
      child = await Promise.race([ctx.children.wait(childId), letGo]);
    } finally {
      cancelTimeout();
      offStop();
    }
    const output = child.outputs ?? {};
    const about = `run ${child.workflow} #${child.number} (${child.id}) ${child.state}${child.reason ? `: ${child.reason}` : ''}`;
    if (!isRunEnded(child.state)) return this.end('running', 'errored', `the engine stopped before ${about}`);
    if (this.timedOut) return this.end('running', 'failed', 'timeout');
    if (this.stoppedBy) {
      return this.end('running', this.stoppedBy.kind === 'timeout' ? 'failed' : 'cancelled', this.stoppedBy.message);
    }
    const state: TaskRunState = child.state === 'queued' || child.state === 'running' ? 'errored' : child.state;
    return this.end('running', state, about, output);
  }

  /**
   * When this run reruns an earlier one from its failed action, the child run this action
   * started there (if it did not succeed): rerun it too, reusing what succeeded in it.
   */
  private async rerunOfEarlierChild(): Promise<ChildRunRequest['rerun']> {
    const { store } = this.ctx;
    const earlierRun = rerunSource(this.input.run);
    if (earlierRun === undefined) return undefined;
    const earlier = (await store.taskRuns.listByRun(earlierRun))
      .filter((t) => t.action === this.input.action.name)
      .sort((a, b) => a.attempt - b.attempt)
      .at(-1);
    if (earlier?.ref === null || earlier?.ref === undefined || earlier.state === 'succeeded') return undefined;
    const child = await store.runs.get(earlier.ref);
    if (child === undefined || !isRunEnded(child.state)) return undefined;
    const reuse = reusableResults(await store.taskRuns.listByRun(child.id), 'failed');
    // the caller starts from a copy of its earlier workspace: the child does the same with its own
    const copies = this.input.run.workspace.from !== null && child.workspace.state === 'kept';
    return { of: child.id, reuse, ...(copies ? { workspaceFrom: child.id } : {}) };
  }

  private async end(
    from: 'pending' | 'running',
    to: TaskRunState,
    reason: string,
    output: JsonObject = {},
  ): Promise<AttemptOutcome> {
    const masker = this.input.masker;
    await this.move([from], to, {
      output: masker.json(output),
      reason: masker.text(reason),
      endedAt: this.ctx.clock(),
    });
    return { state: to, output, taskRunId: this.task.id };
  }

  private async move(from: readonly TaskRunState[], to: TaskRunState, patch: TaskRunPatch): Promise<void> {
    const next = await recordTaskMove(this.ctx, this.input.run, this.task, from, to, patch, this.input.span);
    if (!next) throw new Error(`task run ${this.task.id} was not in ${from.join('|')} when moving to ${to}`);
    this.task = next;
  }
}

/**
 * The earlier run a run reruns from its failed action, if it does: a rerun's `of`, or for a
 * child run started by such a rerun, the earlier child it reruns (`rerunOf`).
 */
export function rerunSource(run: RunRecord): string | undefined {
  const details = run.trigger.details ?? {};
  if (run.trigger.kind === 'rerun' && details.from === 'failed' && typeof details.of === 'string') return details.of;
  if (run.trigger.kind === 'call' && typeof details.rerunOf === 'string') return details.rerunOf;
  return undefined;
}
