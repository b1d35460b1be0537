import { newId } from '../domain/ids.js';
import type { TaskRunState } from '../domain/states.js';
import type { PlanStage } from '../plan/types.js';
import type { RunRecord, TaskRunRecord } from '../store/types.js';
import type { Cancellation } from './cancellation.js';
import type { EngineContext } from './engine-context.js';

/** Someone's answer to an approval stage. */
export interface ApprovalDecision {
  readonly approved: boolean;
  /** who decided (user name, token name) */
  readonly by: string;
  readonly comment?: string;
}

/**
 * An approval stage: recorded as a task run of the built-in `approval` component that waits,
 * holding no process, until a decision, the stage's timeout or the run's stop.
 */
export class ApprovalGate {
  private resolveDecision: ((d: ApprovalDecision | undefined) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly run: RunRecord,
    private readonly stage: PlanStage,
    private readonly stop: Cancellation,
  ) {}

  /** Wait for the outcome: succeeded (approved), failed (rejected or timed out), cancelled. */
  async wait(): Promise<TaskRunState> {
    const { ctx } = this;
    const created = await ctx.store.taskRuns.create({
      id: newId(),
      runId: this.run.id,
      stage: this.stage.name,
      action: this.stage.name,
      attempt: 1,
      component: 'builtin:approval@1',
      executor: 'none',
      tokenHash: null,
      eventData: null,
      createdAt: ctx.clock(),
    });
    let task: TaskRunRecord = created;
    const move = async (from: TaskRunState, to: TaskRunState, message: string | null, reason: string | null) => {
      const at = ctx.clock();
      const ended = to !== 'running';
      task = { ...task, state: to, message, reason, ...(ended ? { endedAt: at } : { startedAt: at }) };
      await ctx.store.taskRuns.transition(task.id, [from], to, at, {
        message,
        reason,
        ...(ended ? { endedAt: at } : { startedAt: at }),
      });
      ctx.emit({ kind: 'task', task });
    };
    await ctx.store.taskRuns.transition(task.id, ['pending'], 'starting', ctx.clock());
    await move('starting', 'running', `waiting for approval (stage ${this.stage.name})`, null);
    const decision = await new Promise<ApprovalDecision | undefined>((resolve) => {
      this.resolveDecision = resolve;
      const timeoutMs = this.stage.approvalTimeoutMs;
      if (timeoutMs !== undefined) this.timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.stop.onStop(() => resolve(undefined));
    });
    clearTimeout(this.timer);
    this.resolveDecision = undefined;
    if (this.stop.stopped) {
      await move('running', 'cancelled', null, this.stop.reason?.message ?? 'cancelled');
      return 'cancelled';
    }
    if (!decision) {
      await move('running', 'failed', null, 'approval timed out');
      return 'failed';
    }
    const text = `${decision.approved ? 'approved' : 'rejected'} by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`;
    const state: TaskRunState = decision.approved ? 'succeeded' : 'failed';
    await ctx.store.taskRuns.update(task.id, {
      output: { approved: decision.approved, by: decision.by, comment: decision.comment ?? '' },
    });
    await move('running', state, text, decision.approved ? null : text);
    return state;
  }

  /** Deliver a decision; false when the gate is not waiting. */
  decide(decision: ApprovalDecision): boolean {
    if (!this.resolveDecision) return false;
    this.resolveDecision(decision);
    return true;
  }

  /** Stop waiting (the run ended). */
  close(): void {
    clearTimeout(this.timer);
    this.resolveDecision?.(undefined);
  }
}
