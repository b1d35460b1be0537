import { LeaseLostError, messageOf } from '../domain/errors.js';
import { Masker } from '../domain/masker.js';
import type { RunState, TaskRunState } from '../domain/states.js';
import { isTaskEnded, outcomeOf } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { RunWorkspace } from '../executor/executor.js';
import type { Combination } from '../plan/matrix.js';
import {
  PLAN_DEFAULTS,
  type ExpressionContext,
  type Plan,
  type PlanAction,
  type PlanStage,
  type RunStatus,
} from '../plan/types.js';
import type { NewOutboxEvent, RunPatch, RunRecord, TaskRunRecord } from '../store/types.js';
import { runAction } from './action-run.js';
import { ApprovalGate, describeDecision } from './approval-gate.js';
import { Cancellation } from './cancellation.js';
import type { EngineContext } from './engine-context.js';
import { runMatrix } from './matrix-fan-out.js';
import { RunExpressions, type ActionResult } from './run-expressions.js';
import { RunWorkspaces } from './run-workspaces.js';
import { recordEnded } from './record-ended.js';
import { recordRunMove } from './record-move.js';
import type { TraceSpan } from './ports.js';
import type { RunHost } from './run-host.js';
import { Semaphore } from './semaphore.js';
import { endSpanAs, maskedSpan } from './trace-span.js';
import { setLongTimeout, type CancelTimer } from '../domain/long-timer.js';

/** The first thing that went wrong in a run, which decides its end state. */
interface RunFailure {
  readonly state: Extract<RunState, 'failed' | 'errored'>;
  readonly reason: string;
}

/**
 * Walks one run's plan: stages in order, actions of a stage in parallel (capped by the plan's
 * `concurrency` and the engine's slots), matrices fanned out, `if:` and status functions,
 * retries with backoff, timeouts, fail-fast, cancellation and approvals; then the `finally`
 * stages, however the others ended (within a grace period after a cancel or a timeout); then
 * the run's outputs. Level-triggered: it starts from what the store says, so a run interrupted
 * by a restart resumes, reusing the outcome of every action that already ended.
 */
export class RunExecution implements RunHost {
  /** stops the stages: a cancel request or the run's timeout */
  readonly stop = new Cancellation();
  /** the run's span (secrets masked); ended by `execute`, or by `endSpan` for a run never executed */
  readonly span: TraceSpan;
  /** stops the finally stages: a second cancel request, or their time limit */
  private readonly finallyStop = new Cancellation();
  private cancelFinallyTimeout: CancelTimer | undefined;
  private readonly expressions: RunExpressions;
  readonly masker: Masker;
  readonly slots: Semaphore;
  /** the run's workspace per executor, prepared at its first attempt there */
  private readonly workspaces: RunWorkspaces;
  private readonly approvals = new Map<string, ApprovalGate>();
  existing: TaskRunRecord[] = [];
  private detached = false;
  private phase: 'stages' | 'finally' = 'stages';
  /** the first failure of the stages, then of the finally stages */
  private failure: RunFailure | undefined;
  private finallyFailure: RunFailure | undefined;

  constructor(
    readonly ctx: EngineContext,
    private record: RunRecord,
    readonly plan: Plan,
    readonly secrets: Readonly<Record<string, string>>,
    span: TraceSpan,
    /** the run's inputs, unmasked (the stored ones have the secrets masked) */
    private readonly inputs: JsonObject = record.inputs,
  ) {
    this.masker = new Masker(Object.values(secrets));
    this.span = maskedSpan(span, this.masker);
    this.slots = new Semaphore(plan.concurrency);
    this.expressions = new RunExpressions(() => this.record, inputs, secrets);
    this.workspaces = new RunWorkspaces(ctx, record, (action) => this.executorOf(action), [
      ...plan.stages,
      ...(plan.finally ?? []),
    ]);
  }

  get id(): string {
    return this.record.id;
  }

  get run(): RunRecord {
    return this.record;
  }

  /**
   * Cancel the run: running components are killed, pending actions cancelled, and the finally
   * stages run within their grace period. A second request stops the finally stages too.
   */
  cancel(message = 'cancelled by request'): void {
    if (this.stop.stopped) {
      this.finallyStop.stop({ kind: 'cancel', message });
      return;
    }
    this.stop.stop({ kind: 'cancel', message });
    if (this.phase === 'finally') this.limitFinally();
  }

  /**
   * Stop acting on the run without recording anything more: this replica lets go of it (its
   * lease was lost, or it hands the run over on shutdown), and its store view already refuses
   * writes. Running components that cannot outlive the engine (local processes) are stopped;
   * containers and pods are left for the run's next holder to re-attach; gates stop waiting;
   * the workspaces are kept; finally stages do not start. `execute` then resolves with the run
   * as last known.
   */
  abandon(why: string): void {
    this.detached = true;
    for (const gate of this.approvals.values()) gate.detach();
    this.stop.stop({ kind: 'abandon', message: why });
    this.finallyStop.stop({ kind: 'abandon', message: why });
  }

  /** All the run does now is wait for an approval (it then takes no room on its replica). */
  get waitingForApproval(): boolean {
    return this.approvals.size > 0;
  }

  /** A decision may have been recorded for gate task run `taskRunId`: read it. */
  refreshGate(taskRunId: string): void {
    for (const gate of this.approvals.values()) gate.refresh(taskRunId);
  }

  /** End the run's span as `run` (its final record) says; a detached run's span notes it. */
  endSpan(run: RunRecord): void {
    if (this.detached) this.span.set({ 'pilotage.detached': true });
    endSpanAs(this.span, run.state, run.reason);
  }

  /**
   * Carry the run to its end and return its final record. `recordedHere`: this engine recorded
   * the run, with no task run (no reused results): while it is still queued it has none to read.
   */
  async execute(options: { readonly recordedHere?: boolean } = {}): Promise<RunRecord> {
    const { ctx } = this;
    const cancelRunTimeout =
      this.plan.timeoutMs === undefined
        ? undefined
        : setLongTimeout(
            () => this.stop.stop({ kind: 'timeout', message: `run timeout: exceeded ${this.plan.timeoutMs}ms` }),
            this.plan.timeoutMs - (ctx.clock() - (this.record.startedAt ?? ctx.clock())),
          );
    try {
      const unstarted = this.record.state === 'queued';
      // a run recorded here and never started has no task run yet: one statement less per run
      if (!(unstarted && options.recordedHere === true)) {
        this.existing = await ctx.store.taskRuns.listByRun(this.record.id);
      }
      if (unstarted) {
        const startedAt = ctx.clock();
        await this.moveRun(['queued'], 'running', { startedAt }, (r) => ctx.events.runStarted(r));
      }
      this.expressions.renderWorkflowEnv(this.plan.env, this.status());
      await this.walkStages();
      cancelRunTimeout?.();
      await this.walkFinally();
      if (!this.detached) await this.finish();
    } catch (error) {
      if (this.detached || error instanceof LeaseLostError) {
        // another replica holds the run now (or will): record nothing, release nothing
        if (!this.detached) ctx.warn(`run ${this.record.id}: ${messageOf(error)}; this replica stops acting on it`);
        this.abandon(messageOf(error));
        return this.record;
      }
      ctx.warn(
        `run ${this.record.id} errored: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      await this.finish({ state: 'errored', reason: `engine error: ${messageOf(error)}` }).catch(() => undefined);
    } finally {
      cancelRunTimeout?.();
      this.cancelFinallyTimeout?.();
      for (const gate of this.approvals.values()) gate.close();
      ctx.registry.forgetRun(this.record.id);
      this.endSpan(this.record);
    }
    return this.record;
  }

  /** The run's workspace on an executor, prepared at the first call (see RunWorkspaces). */
  workspaceOn(executorName: string): Promise<RunWorkspace> {
    return this.workspaces.on(executorName);
  }

  /**
   * The stages in order. Once one failed, later stages run only the actions whose `if:` calls a
   * status function (`always()`, `failure()`…); the others are skipped. Once the run is
   * stopped (cancel, timeout) nothing more starts.
   */
  private async walkStages(): Promise<void> {
    for (const stage of this.plan.stages) {
      if (this.detached) return;
      const span = this.stageSpan(stage);
      const before = this.failure;
      if (this.stop.stopped) {
        await this.recordUnreached(stage, this.stop.reason?.kind === 'cancel' ? 'cancelled' : 'skipped', span);
      } else if (stage.type === 'approval') {
        if (this.failure) await this.recordUnreached(stage, 'skipped', span);
        else this.noteFailure(await this.runApproval(stage, span));
      } else {
        await this.runStage(stage, this.stop, span);
      }
      span.end(this.failure !== before ? this.failure?.reason : undefined);
    }
  }

  private stageSpan(stage: PlanStage): TraceSpan {
    return this.span.child(`stage ${stage.name}`, {
      'pilotage.stage': stage.name,
      'pilotage.stage.type': stage.type,
      'pilotage.stage.finally': this.phase === 'finally' || undefined,
    });
  }

  /**
   * The finally stages, in order, each whatever the previous ones did: their actions run unless
   * their own `if:` says otherwise. After a cancel or a run timeout they get
   * `finallyTimeoutMs` (default `PLAN_DEFAULTS.finallyGraceMs`); a second cancel stops them.
   */
  private async walkFinally(): Promise<void> {
    const stages = this.plan.finally ?? [];
    if (stages.length === 0 || this.detached) return;
    this.phase = 'finally';
    if (this.stop.stopped || this.plan.finallyTimeoutMs !== undefined) this.limitFinally();
    for (const stage of stages) {
      const span = this.stageSpan(stage);
      const before = this.finallyFailure;
      if (this.finallyStop.stopped) {
        await this.recordUnreached(stage, 'cancelled', span, this.finallyStop.reason?.message);
      } else {
        await this.runStage(stage, this.finallyStop, span);
      }
      span.end(this.finallyFailure !== before ? this.finallyFailure?.reason : undefined);
    }
  }

  /** Start the finally stages' time limit (once). */
  private limitFinally(): void {
    if (this.cancelFinallyTimeout !== undefined) return;
    const ms = this.plan.finallyTimeoutMs ?? PLAN_DEFAULTS.finallyGraceMs;
    this.cancelFinallyTimeout = setLongTimeout(
      () => this.finallyStop.stop({ kind: 'timeout', message: `finally timeout: exceeded ${ms}ms` }),
      ms,
    );
  }

  private async runStage(stage: PlanStage, stop: Cancellation, span: TraceSpan): Promise<void> {
    const stageStop = new Cancellation(stop);
    const inFinally = this.phase === 'finally';
    const earlier = inFinally ? undefined : this.failure;
    // every action is waited for, even after one threw: a replica letting go of the run stops
    // its local processes before anyone may start the actions again
    const settled = await Promise.allSettled(
      stage.actions.map(async (action) => {
        if (earlier && !action.statusCheck) {
          await this.recordUnreachedAction(action, 'skipped', 'an earlier stage did not succeed', span);
          return;
        }
        let state: TaskRunState;
        try {
          state = await this.runOne(action, stageStop, span);
        } catch (error) {
          if (error instanceof LeaseLostError) this.abandon(messageOf(error));
          throw error;
        }
        // a cancelled action counts as a failure when nothing stopped its stage (a child run cancelled)
        const failed = state === 'failed' || state === 'errored' || (state === 'cancelled' && !stageStop.stopped);
        if (!failed) return;
        const reason = `${inFinally ? 'finally: ' : ''}action ${action.name} ${state}`;
        this.noteFailure({ state: state === 'errored' ? 'errored' : 'failed', reason });
        if (this.plan.failFast) {
          stageStop.stop({ kind: 'fail-fast', message: `cancelled: action ${action.name} ${state} (failFast)` });
        }
      }),
    );
    const thrown = settled.find((result) => result.status === 'rejected');
    if (thrown !== undefined) throw thrown.reason;
  }

  /**
   * Run one action (fanned out when it has a matrix) inside its span, a child of `stageSpan`, and
   * keep its result for expressions.
   */
  private async runOne(action: PlanAction, stop: Cancellation, stageSpan: TraceSpan): Promise<TaskRunState> {
    const span = this.actionSpan(action, stageSpan);
    try {
      let result: ActionResult;
      if (action.matrix) {
        const outcome = await runMatrix(this, action, stop, span);
        result = { status: outcome.state, outputs: outcome.outputs };
      } else {
        const outcome = await runAction(this, action, stop, span);
        result = { status: outcome.state, outputs: outcome.output };
      }
      this.setResult(action.name, result);
      endSpanAs(span, result.status);
      return result.status;
    } catch (error) {
      span.end(messageOf(error));
      throw error;
    }
  }

  private actionSpan(action: PlanAction, stageSpan: TraceSpan): TraceSpan {
    return stageSpan.child(`action ${action.name}`, {
      'pilotage.action': action.name,
      'pilotage.component': `${action.component.name}@${action.component.version}`,
    });
  }

  private noteFailure(failure: RunFailure | undefined): void {
    if (failure === undefined) return;
    if (this.phase === 'finally') this.finallyFailure ??= failure;
    else this.failure ??= failure;
  }

  private setResult(name: string, result: ActionResult): void {
    this.expressions.setResult(name, result);
  }

  /** The executor an action runs on: its own, else the workflow's, else the engine's default. */
  executorOf(action: PlanAction): string {
    return action.executor ?? this.plan.executor ?? this.ctx.executors.defaultName;
  }

  private async runApproval(stage: PlanStage, span: TraceSpan): Promise<RunFailure | undefined> {
    const done = this.existing.find((t) => t.stage === stage.name && isTaskEnded(t.state));
    if (done) {
      return done.state === 'succeeded'
        ? undefined
        : { state: 'failed', reason: `approval ${stage.name} ${done.state}` };
    }
    const gate = new ApprovalGate(this.ctx, this.record, stage, this.stop);
    this.approvals.set(stage.name, gate);
    // after a restart, carry on the gate the previous process left waiting (approval-gate.ts)
    const state = await gate.wait(this.existing.find((t) => t.stage === stage.name));
    this.approvals.delete(stage.name);
    span.set({
      'pilotage.state': state,
      'pilotage.approval': gate.decision ? describeDecision(gate.decision) : undefined,
    });
    // a cancelled gate is not the failure: the run ends as its stop says
    if (state !== 'failed') return undefined;
    const why = gate.decision ? describeDecision(gate.decision) : 'timed out';
    return { state: 'failed', reason: `approval ${stage.name} ${why}` };
  }

  /** Record the actions of a stage that was never started (their spans under `stageSpan`). */
  private async recordUnreached(
    stage: PlanStage,
    state: TaskRunState,
    stageSpan: TraceSpan,
    why?: string,
  ): Promise<void> {
    const reason = why ?? this.stop.reason?.message ?? 'an earlier stage did not succeed';
    stageSpan.set({ 'pilotage.reached': false });
    await Promise.all(stage.actions.map((action) => this.recordUnreachedAction(action, state, reason, stageSpan)));
  }

  /** Record an action that was never tried (unless this run already recorded its end). */
  private async recordUnreachedAction(
    action: PlanAction,
    state: TaskRunState,
    reason: string,
    stageSpan: TraceSpan,
  ): Promise<void> {
    const done = this.existing.filter((t) => t.action === action.name && isTaskEnded(t.state)).at(-1);
    let status = done?.state;
    if (status === undefined) {
      const span = this.actionSpan(action, stageSpan);
      status = await recordEnded(this, action, state, reason, { span });
      endSpanAs(span, status, reason);
    }
    this.setResult(action.name, { status, outputs: action.matrix ? [] : (done?.output ?? {}) });
  }

  /** What the run ends as: a cancel or timeout first, then the stages' failure, then finally's. */
  private outcome(): { state: RunState; reason: string | null } {
    const stopped = this.stop.reason;
    if (stopped?.kind === 'cancel') return { state: 'cancelled', reason: stopped.message };
    if (stopped?.kind === 'timeout') return { state: 'failed', reason: stopped.message };
    const failure = this.failure ?? this.finallyFailure;
    if (failure) return failure;
    return { state: 'succeeded', reason: null };
  }

  private async finish(engineFailure?: RunFailure): Promise<void> {
    let { state, reason } = engineFailure ?? this.outcome();
    let outputs: JsonObject | undefined;
    if (this.plan.outputs !== undefined && engineFailure === undefined) {
      try {
        outputs = this.masker.json(this.expressions.outputs(this.plan.outputs, this.status()));
      } catch (error) {
        // outputs of a run that failed are best effort; a succeeded run must deliver them
        if (state === 'succeeded') {
          state = 'errored';
          reason = `outputs: ${messageOf(error)}`;
        }
      }
    }
    const outcome = outcomeOf(state) ?? 'error';
    const endedAt = this.ctx.clock();
    const kept = this.keptUntil(state, endedAt);
    // released before the end is recorded: a crash in between leaves a run that recovery
    // resumes, and that releases them again when it ends
    await this.workspaces.release(kept !== undefined);
    const patch: RunPatch = {
      reason,
      endedAt,
      ...(outputs === undefined ? {} : { outputs }),
      ...(kept === undefined ? {} : { workspaceKept: { expiresAt: kept } }),
    };
    await this.moveRun(['running', 'queued'], state, patch, (r) => this.ctx.events.runFinished(r, outcome, reason));
  }

  /**
   * Whether the run's workspaces are kept as it ends in `state`: undefined when not, else until
   * when (null: for ever, the `keepWorkspace` setting). A run that did not succeed keeps them
   * for `workspaceRetentionMs`, so that a rerun starts from a copy.
   */
  private keptUntil(state: RunState, endedAt: number): number | null | undefined {
    if (this.ctx.keepWorkspace) return null;
    if (state === 'succeeded' || this.ctx.workspaceRetentionMs <= 0) return undefined;
    return endedAt + this.ctx.workspaceRetentionMs;
  }

  private async moveRun(
    from: readonly RunState[],
    to: RunState,
    patch: RunPatch,
    events: (run: RunRecord) => NewOutboxEvent[],
  ): Promise<void> {
    const next = await recordRunMove(this.ctx, this.record, from, to, patch, events, this.span);
    if (!next) throw new Error(`run ${this.record.id} was not in ${from.join('|')} when moving to ${to}`);
    this.record = next;
  }

  /** `run.status` now (see `RunStatus`). */
  private status(): RunStatus {
    const { state } = this.outcome();
    if (state === 'succeeded') return this.phase === 'finally' ? 'succeeded' : 'running';
    return state as RunStatus;
  }

  /** The expression context now (with `matrix` for a combination's task run). */
  context(matrix?: Combination): ExpressionContext {
    return this.expressions.context(this.status(), matrix);
  }

  /** The action's event data and env, rendered now (after the actions it reads have ended). */
  prepare(action: PlanAction, matrix?: Combination): { eventData: JsonValue | Error; env: Record<string, string> } {
    return this.expressions.prepare(action, this.status(), matrix);
  }
}
