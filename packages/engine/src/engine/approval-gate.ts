import { newId } from '../domain/ids.js';
import type { TaskRunState } from '../domain/states.js';
import type { PlanStage } from '../plan/types.js';
import type { RunRecord, TaskRunRecord } from '../store/types.js';
import type { Cancellation } from './cancellation.js';
import type { EngineContext } from './engine-context.js';
import { setLongTimeout, type CancelTimer } from '../domain/long-timer.js';

/** Someone's answer to an approval stage. */
export interface ApprovalDecision {
  readonly approved: boolean;
  /** who decided (user name, token name) */
  readonly by: string;
  readonly comment?: string;
}

import { APPROVAL_COMPONENT } from '../domain/vocabulary.js';

export { APPROVAL_COMPONENT };

/**
 * How a decision reads in the task run's message and reason, and in the run's reason:
 * `approved by alice: ship it`, `rejected by bob`.
 */
export function describeDecision(decision: ApprovalDecision): string {
  return `${decision.approved ? 'approved' : 'rejected'} by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`;
}

/**
 * The decision recorded on a gate's task run (`TaskRunStore.decide`: result, output
 * `{approved, by, comment}`), if any.
 */
export function recordedDecision(task: TaskRunRecord): ApprovalDecision | undefined {
  if (task.result === null) return undefined;
  const by = task.output['by'];
  const comment = task.output['comment'];
  return {
    approved: task.result === 'success',
    by: typeof by === 'string' ? by : 'unknown',
    ...(typeof comment === 'string' && comment !== '' ? { comment } : {}),
  };
}

/**
 * An approval stage: recorded as a task run of the built-in `approval` component that waits,
 * holding no process, until a decision, the stage's timeout or the run's stop. A decision is
 * taken on any replica: it is recorded on the task run first (`Engine.decide`: result, output
 * `{approved, by, comment}` and message), then the run's holder is told (`refresh`), or finds
 * it when the gate begins (a decision taken while nobody carried the run); the gate moves the
 * task run on with the decision as its message and reason (so the transition records it too).
 */
export class ApprovalGate {
  private resolveDecision: ((d: ApprovalDecision | 'detach' | undefined) => void) | undefined;
  private cancelTimeout: CancelTimer = () => undefined;
  private decided: ApprovalDecision | undefined;
  /** `detach()` came before the wait began: the wait returns `detached` as soon as it would start */
  private detachRequested = false;
  /** the gate's task run, once recorded */
  private taskRunId: string | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly run: RunRecord,
    private readonly stage: PlanStage,
    private readonly stop: Cancellation,
  ) {}

  /** The decision that ended the wait, once there is one. */
  get decision(): ApprovalDecision | undefined {
    return this.decided;
  }

  /**
   * Wait for the outcome: succeeded (approved), failed (rejected or timed out), cancelled.
   * `unfinished` is the stage's task run a previous engine process left waiting (a restart):
   * it is carried on instead of recording a new one, and the timeout still counts from when it
   * started waiting (a timeout that passed while the engine was down fails it at once).
   * `detached`: `detach()` was called; nothing was recorded, the task run is left waiting.
   */
  async wait(unfinished?: TaskRunRecord): Promise<'succeeded' | 'failed' | 'cancelled' | 'detached'> {
    const { ctx } = this;
    let task = await this.begin(unfinished);
    this.taskRunId = task.id;
    const move = async (to: TaskRunState, message: string | null, reason: string | null): Promise<void> => {
      const at = ctx.clock();
      const patch = { message, reason, endedAt: at };
      await ctx.store.taskRuns.transition(task.id, ['running'], to, at, patch);
      task = { ...task, ...patch, state: to };
      ctx.emit({ kind: 'task', task });
    };
    const timeoutMs = this.stage.approvalTimeoutMs;
    const waitedMs = ctx.clock() - (task.startedAt ?? ctx.clock());
    let offStop: () => void = () => undefined;
    let decision = await new Promise<ApprovalDecision | 'detach' | undefined>((resolve) => {
      if (this.detachRequested) return resolve('detach');
      const early = recordedDecision(task);
      if (early !== undefined) return resolve(early);
      this.resolveDecision = resolve;
      // a long timer: approvals may wait longer than Node's timers can (24.8 days)
      if (timeoutMs !== undefined) this.cancelTimeout = setLongTimeout(() => resolve(undefined), timeoutMs - waitedMs);
      offStop = this.stop.onStop(() => resolve(undefined));
    });
    this.cancelTimeout();
    offStop();
    this.resolveDecision = undefined;
    if (decision === 'detach') return 'detached';
    if (this.stop.stopped) {
      await move('cancelled', null, this.stop.reason?.message ?? 'cancelled');
      return 'cancelled';
    }
    // timed out: a decision recorded meanwhile on another replica still wins
    if (!decision) {
      const now = await ctx.store.taskRuns.get(task.id);
      decision = now === undefined ? undefined : recordedDecision(now);
      if (now !== undefined) task = now;
    }
    if (!decision) {
      await move('failed', null, 'approval timed out');
      return 'failed';
    }
    this.decided = decision;
    const text = describeDecision(decision);
    const state = decision.approved ? 'succeeded' : 'failed';
    await move(state, text, text);
    return state;
  }

  /**
   * A decision may have been recorded on task run `taskRunId`: if it is this gate's and the gate
   * waits, read it and end the wait with it. Store errors are warned (the holder's slow poll of
   * recorded decisions tries again).
   */
  refresh(taskRunId: string): void {
    if (taskRunId !== this.taskRunId || this.resolveDecision === undefined) return;
    void this.ctx.store.taskRuns.get(taskRunId).then(
      (task) => {
        const decision = task === undefined ? undefined : recordedDecision(task);
        if (decision !== undefined) this.resolveDecision?.(decision);
      },
      (error: unknown) => this.ctx.warn(`approval ${this.stage.name}: could not read its decision: ${String(error)}`),
    );
  }

  /**
   * The stage's task run, `running` (waiting): `unfinished` as it is, or a new one recorded and
   * moved pending → starting → running.
   */
  private async begin(unfinished: TaskRunRecord | undefined): Promise<TaskRunRecord> {
    const { ctx } = this;
    let task: TaskRunRecord =
      unfinished ??
      (await ctx.store.taskRuns.create({
        id: newId(),
        runId: this.run.id,
        stage: this.stage.name,
        action: this.stage.name,
        attempt: 1,
        component: APPROVAL_COMPONENT,
        executor: 'none',
        tokenHash: null,
        eventData: null,
        createdAt: ctx.clock(),
      }));
    if (task.state === 'pending') {
      await ctx.store.taskRuns.transition(task.id, ['pending'], 'starting', ctx.clock());
      task = { ...task, state: 'starting' };
    }
    if (task.state === 'starting') {
      const at = ctx.clock();
      const patch = { message: `waiting for approval (stage ${this.stage.name})`, reason: null, startedAt: at };
      await ctx.store.taskRuns.transition(task.id, ['starting'], 'running', at, patch);
      task = { ...task, ...patch, state: 'running' };
    }
    ctx.emit({ kind: 'task', task });
    return task;
  }

  /**
   * Stop waiting without recording anything (the replica lets go of the run): the task run stays
   * `running` in the store, so the run's next holder carries it on. Called while the gate
   * is still recording its task run, the wait ends so as soon as it begins.
   */
  detach(): void {
    this.detachRequested = true;
    this.resolveDecision?.('detach');
  }

  /** Stop waiting (the run ended). */
  close(): void {
    this.cancelTimeout();
    this.resolveDecision?.(undefined);
  }
}
