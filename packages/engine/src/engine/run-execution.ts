import { LeaseLostError, messageOf } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { Masker } from '../domain/masker.js';
import { retryDelayMs, shouldRetry } from '../domain/retry.js';
import type { RunState, TaskRunState } from '../domain/states.js';
import { isTaskEnded, outcomeOf } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { Executor, RunWorkspace } from '../executor/executor.js';
import { evaluateCondition, renderTemplate } from '../plan/render.js';
import type { ExpressionContext, Plan, PlanAction, PlanStage, Template } from '../plan/types.js';
import type { NewOutboxEvent, RunPatch, RunRecord, TaskRunRecord } from '../store/types.js';
import { Cancellation } from './cancellation.js';
import type { EngineContext } from './engine-context.js';
import { Semaphore } from './semaphore.js';
import { TaskAttempt, type AttemptInput, type AttemptOutcome } from './task-attempt.js';
import { ApprovalGate, describeDecision } from './approval-gate.js';
import { resumeTaskRun } from './reattach.js';
import { recordRunMove, recordTaskMove } from './record-move.js';
import type { TraceSpan } from './ports.js';
import { endSpanAs, maskedSpan } from './trace-span.js';
import { setLongTimeout } from '../domain/long-timer.js';

/** What an action ended as, for later expressions (`actions.<name>.outputs|status`). */
interface ActionResult {
  readonly status: TaskRunState;
  readonly outputs: JsonObject;
}

/** The first thing that went wrong in a run, which decides its end state. */
interface RunFailure {
  readonly state: Extract<RunState, 'failed' | 'errored'>;
  readonly reason: string;
}

/**
 * Walks one run's plan: stages in order, actions of a stage in parallel (capped by the plan's
 * `concurrency` and the engine's slots), `if:`, retries with backoff, timeouts, fail-fast,
 * cancellation and approvals. Level-triggered: it starts from what the store says, so a run
 * interrupted by a restart resumes, reusing the outcome of every action that already ended.
 */
export class RunExecution {
  readonly stop = new Cancellation();
  /** the run's span (secrets masked); ended by `execute`, or by `endSpan` for a run never executed */
  readonly span: TraceSpan;
  private readonly results = new Map<string, ActionResult>();
  private readonly masker: Masker;
  private readonly slots: Semaphore;
  /** the run's workspace per executor name, prepared at its first attempt there */
  private readonly workspaces = new Map<string, Promise<RunWorkspace>>();
  private released = false;
  private readonly approvals = new Map<string, ApprovalGate>();
  private existing: TaskRunRecord[] = [];
  private workflowEnv: Record<string, string> = {};
  private detached = false;

  constructor(
    private readonly ctx: EngineContext,
    private run: RunRecord,
    private readonly plan: Plan,
    private readonly secrets: Readonly<Record<string, string>>,
    span: TraceSpan,
    /** the run's inputs, unmasked (the stored ones have the secrets masked) */
    private readonly inputs: JsonObject = run.inputs,
  ) {
    this.masker = new Masker(Object.values(secrets));
    this.span = maskedSpan(span, this.masker);
    this.slots = new Semaphore(plan.concurrency);
  }

  get id(): string {
    return this.run.id;
  }

  /** Cancel the run: running components are killed, pending actions cancelled. */
  cancel(message = 'cancelled by request'): void {
    this.stop.stop({ kind: 'cancel', message });
  }

  /**
   * Stop acting on the run without recording anything more: this replica lets go of it (its
   * lease was lost, or it hands the run over on shutdown), and its store view already refuses
   * writes. Running components that cannot outlive the engine (local processes) are stopped;
   * containers and pods are left for the run's next holder to re-attach; gates stop waiting;
   * the workspaces are kept. `execute` then resolves with the run as last known.
   */
  abandon(why: string): void {
    this.detached = true;
    for (const gate of this.approvals.values()) gate.detach();
    this.stop.stop({ kind: 'abandon', message: why });
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

  /** Carry the run to its end and return its final record. */
  async execute(): Promise<RunRecord> {
    const { ctx } = this;
    const cancelRunTimeout =
      this.plan.timeoutMs === undefined
        ? undefined
        : setLongTimeout(
            () => this.stop.stop({ kind: 'timeout', message: `run timeout: exceeded ${this.plan.timeoutMs}ms` }),
            this.plan.timeoutMs - (ctx.clock() - (this.run.startedAt ?? ctx.clock())),
          );
    try {
      this.existing = await ctx.store.taskRuns.listByRun(this.run.id);
      if (this.run.state === 'queued') {
        const startedAt = ctx.clock();
        await this.moveRun(['queued'], 'running', { startedAt }, (r) => ctx.events.runStarted(r));
      }
      this.workflowEnv = this.renderEnv(this.plan.env, this.context());
      const failure = await this.walkStages();
      if (!this.detached) {
        // released before the end is recorded: a crash in between leaves a run that recovery
        // resumes, and that releases them again when it ends
        await this.releaseWorkspaces();
        await this.finish(failure);
      }
    } catch (error) {
      if (this.detached || error instanceof LeaseLostError) {
        // another replica holds the run now (or will): record nothing, release nothing
        if (!this.detached) ctx.warn(`run ${this.run.id}: ${messageOf(error)}; this replica stops acting on it`);
        this.abandon(messageOf(error));
        return this.run;
      }
      ctx.warn(
        `run ${this.run.id} errored: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      await this.releaseWorkspaces();
      await this.finish({ state: 'errored', reason: `engine error: ${messageOf(error)}` }).catch(() => undefined);
    } finally {
      cancelRunTimeout?.();
      for (const gate of this.approvals.values()) gate.close();
      ctx.registry.forgetRun(this.run.id);
      this.endSpan(this.run);
    }
    return this.run;
  }

  /**
   * The run's workspace on an executor: `prepareRun` at the first call, the same promise after.
   * A failed preparation is forgotten, so that a retry prepares again.
   */
  private workspaceOn(executorName: string): Promise<RunWorkspace> {
    let workspace = this.workspaces.get(executorName);
    if (workspace === undefined) {
      const executor = this.ctx.executors.get(executorName);
      const actions = this.plan.stages.flatMap((s) => s.actions).filter((a) => this.executorOf(a) === executorName);
      workspace = executor.prepareRun({ runId: this.run.id, workflow: this.run.workflow, actions: actions.length });
      this.workspaces.set(executorName, workspace);
      workspace.catch(() => this.workspaces.delete(executorName));
    }
    return workspace;
  }

  /**
   * Release the run's resources on every executor its plan names (not only those prepared by
   * this process: a run resumed after a restart may have nothing left to start), keeping the
   * workspaces when the engine is told to. Failures are warned; recovery retries what
   * executors list (`Executor.listRuns`).
   */
  private async releaseWorkspaces(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const names = new Set([
      ...this.workspaces.keys(),
      ...this.plan.stages.flatMap((s) => s.actions.map((a) => this.executorOf(a))),
    ]);
    await Promise.all(
      [...names].map(async (name) => {
        let executor: Executor;
        try {
          executor = this.ctx.executors.get(name);
        } catch {
          return; // not configured in this engine: nothing of the run was prepared on it here
        }
        try {
          await executor.releaseRun(this.run.id, { keep: this.ctx.keepWorkspace });
        } catch (error) {
          this.ctx.warn(`run ${this.run.id}: could not release its resources on ${name}: ${messageOf(error)}`);
        }
      }),
    );
  }

  private async walkStages(): Promise<RunFailure | undefined> {
    let failure: RunFailure | undefined;
    for (const stage of this.plan.stages) {
      if (this.detached) break;
      const span = this.span.child(`stage ${stage.name}`, {
        'pilotage.stage': stage.name,
        'pilotage.stage.type': stage.type,
      });
      if (failure || this.stop.stopped) {
        const why = this.stop.reason?.message ?? `an earlier stage did not succeed`;
        await Promise.all(stage.actions.map((a) => this.recordUnreached(a, why, span)));
        span.set({ 'pilotage.reached': false });
        span.end();
        continue;
      }
      failure = stage.type === 'approval' ? await this.runApproval(stage, span) : await this.runStage(stage, span);
      span.end(failure?.reason);
    }
    return failure;
  }

  private async runStage(stage: PlanStage, span: TraceSpan): Promise<RunFailure | undefined> {
    const stageStop = new Cancellation(this.stop);
    let failure: RunFailure | undefined;
    // every action is waited for, even after one threw: a replica letting go of the run stops
    // its local processes before anyone may start the actions again
    const settled = await Promise.allSettled(
      stage.actions.map(async (action) => {
        let outcome: TaskRunState;
        try {
          outcome = await this.runAction(action, stageStop, span);
        } catch (error) {
          if (error instanceof LeaseLostError) this.abandon(messageOf(error));
          throw error;
        }
        if (outcome === 'failed' || outcome === 'errored') {
          failure ??= { state: outcome, reason: `action ${action.name} ${outcome}` };
          if (this.plan.failFast) {
            stageStop.stop({ kind: 'fail-fast', message: `cancelled: action ${action.name} ${outcome} (failFast)` });
          }
        }
      }),
    );
    const thrown = settled.find((result) => result.status === 'rejected');
    if (thrown !== undefined) throw thrown.reason;
    return failure;
  }

  /** Run every attempt of one action inside its span (a child of `stageSpan`); returns its final state. */
  private async runAction(action: PlanAction, stop: Cancellation, stageSpan: TraceSpan): Promise<TaskRunState> {
    const span = this.actionSpan(action, stageSpan);
    try {
      const state = await this.attemptAction(action, stop, span);
      endSpanAs(span, state);
      return state;
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

  /** Run every attempt of one action, its events on `span`; returns its final state. */
  private async attemptAction(action: PlanAction, stop: Cancellation, span: TraceSpan): Promise<TaskRunState> {
    const prior = this.existing.filter((t) => t.action === action.name).sort((a, b) => a.attempt - b.attempt);
    const last = prior.at(-1);
    if (last && isTaskEnded(last.state) && !shouldRetry(action.retries, last.attempt, last.state)) {
      this.results.set(action.name, { status: last.state, outputs: last.output });
      return last.state;
    }
    if (last && !isTaskEnded(last.state)) {
      // a restart found it unfinished: re-attach its component, or record it lost (reattach.ts)
      const resumed = await resumeTaskRun(
        this.ctx,
        this.attemptInput(action, last.attempt, last.executor, stop, span),
        last,
      );
      const retry = resumed.retryable !== false && shouldRetry(action.retries, last.attempt, resumed.state);
      if (stop.stopped || !retry) {
        this.results.set(action.name, { status: resumed.state, outputs: resumed.output });
        return resumed.state;
      }
    }
    let attempt = (last?.attempt ?? 0) + 1;

    if (action.if && attempt === 1) {
      let pass: boolean;
      try {
        pass = evaluateCondition(action.if, this.context());
      } catch (error) {
        return this.finishAction(action, await this.recordEnded(action, 'errored', `if: ${messageOf(error)}`, span));
      }
      if (!pass) {
        return this.finishAction(
          action,
          await this.recordEnded(action, 'skipped', `if: ${action.if.source} was false`, span),
        );
      }
    }

    let outcome: AttemptOutcome | undefined;
    for (;;) {
      if (attempt > 1 && !(await stop.sleep(retryDelayMs(action.retries, attempt)))) break;
      const releaseRun = await this.slots.acquire();
      const releaseEngine = await this.ctx.slots.acquire();
      try {
        outcome = await new TaskAttempt(
          this.ctx,
          this.attemptInput(action, attempt, this.executorOf(action), stop, span),
        ).run();
      } finally {
        releaseEngine();
        releaseRun();
      }
      if (stop.stopped || !shouldRetry(action.retries, attempt, outcome.state)) break;
      attempt += 1;
    }
    if (!outcome) {
      outcome = { state: 'cancelled', output: {}, taskRunId: '' };
      await this.recordEnded(action, 'cancelled', stop.reason?.message ?? 'cancelled', span, attempt);
    }
    this.results.set(action.name, { status: outcome.state, outputs: outcome.output });
    return outcome.state;
  }

  /** What an attempt of `action` is given, its event data and env rendered now; `span` is the action's. */
  private attemptInput(
    action: PlanAction,
    attempt: number,
    executorName: string,
    stop: Cancellation,
    span: TraceSpan,
  ): AttemptInput {
    return {
      run: this.run,
      action,
      attempt,
      ...this.prepare(action),
      workspace: () => this.workspaceOn(executorName),
      executorName,
      masker: this.masker,
      stop,
      span,
    };
  }

  /** The executor an action runs on: its own, else the workflow's, else the engine's default. */
  private executorOf(action: PlanAction): string {
    return action.executor ?? this.plan.executor ?? this.ctx.executors.defaultName;
  }

  private finishAction(action: PlanAction, state: TaskRunState): TaskRunState {
    this.results.set(action.name, { status: state, outputs: {} });
    return state;
  }

  private async runApproval(stage: PlanStage, span: TraceSpan): Promise<RunFailure | undefined> {
    const done = this.existing.find((t) => t.stage === stage.name && isTaskEnded(t.state));
    if (done) {
      return done.state === 'succeeded'
        ? undefined
        : { state: 'failed', reason: `approval ${stage.name} ${done.state}` };
    }
    const gate = new ApprovalGate(this.ctx, this.run, stage, this.stop);
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

  /** Record an action that was never tried because the run stopped before its stage (its span under `stageSpan`). */
  private async recordUnreached(action: PlanAction, why: string, stageSpan: TraceSpan): Promise<void> {
    if (this.existing.some((t) => t.action === action.name && isTaskEnded(t.state))) return;
    const span = this.actionSpan(action, stageSpan);
    const state = await this.recordEnded(
      action,
      this.stop.reason?.kind === 'cancel' ? 'cancelled' : 'skipped',
      why,
      span,
    );
    endSpanAs(span, state, why);
  }

  /** Record a task run that ended without running (skipped, errored on `if:`, cancelled); its CDEvents on `span`. */
  private async recordEnded(
    action: PlanAction,
    state: TaskRunState,
    reason: string,
    span: TraceSpan,
    attempt = 1,
  ): Promise<TaskRunState> {
    const { ctx } = this;
    const at = ctx.clock();
    const component = action.component;
    const created = await ctx.store.taskRuns.create({
      id: newId(),
      runId: this.run.id,
      stage: action.stage,
      action: action.name,
      attempt,
      component: `${component.name}@${component.version}`,
      executor: this.executorOf(action),
      tokenHash: null,
      eventData: null,
      ...(state === 'skipped' ? { state: 'skipped' as const, reason } : {}),
      createdAt: at,
    });
    if (state === 'skipped') ctx.emit({ kind: 'task', task: created });
    else await recordTaskMove(ctx, this.run, created, ['pending'], state, { reason, endedAt: at }, span);
    span.set({ 'pilotage.reason': reason });
    return state;
  }

  private async finish(failure: RunFailure | undefined): Promise<void> {
    const stopped = this.stop.reason;
    let state: RunState;
    let reason: string | null;
    if (stopped?.kind === 'cancel') {
      state = 'cancelled';
      reason = stopped.message;
    } else if (stopped?.kind === 'timeout') {
      state = 'failed';
      reason = stopped.message;
    } else if (failure) {
      state = failure.state;
      reason = failure.reason;
    } else {
      state = 'succeeded';
      reason = null;
    }
    const outcome = outcomeOf(state) ?? 'error';
    await this.moveRun(['running', 'queued'], state, { reason, endedAt: this.ctx.clock() }, (r) =>
      this.ctx.events.runFinished(r, outcome, reason),
    );
  }

  private async moveRun(
    from: readonly RunState[],
    to: RunState,
    patch: RunPatch,
    events: (run: RunRecord) => NewOutboxEvent[],
  ): Promise<void> {
    const next = await recordRunMove(this.ctx, this.run, from, to, patch, events, this.span);
    if (!next) throw new Error(`run ${this.run.id} was not in ${from.join('|')} when moving to ${to}`);
    this.run = next;
  }

  private context(): ExpressionContext {
    const actions: Record<string, { outputs: JsonObject; status: string }> = {};
    for (const [name, result] of this.results) actions[name] = { outputs: result.outputs, status: result.status };
    return {
      inputs: this.inputs,
      actions,
      run: { id: this.run.id, number: this.run.number, workflow: this.run.workflow },
      env: this.workflowEnv,
      secrets: this.secrets,
    };
  }

  /** The action's event data and env, rendered now (after the actions it reads have ended). */
  private prepare(action: PlanAction): { eventData: JsonValue | Error; env: Record<string, string> } {
    try {
      const context = this.context();
      return {
        eventData: renderTemplate(action.with, context),
        env: { ...this.workflowEnv, ...this.renderEnv(action.env, context) },
      };
    } catch (error) {
      return { eventData: error instanceof Error ? error : new Error(String(error)), env: {} };
    }
  }

  private renderEnv(env: Readonly<Record<string, Template>>, ctx: ExpressionContext): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, template] of Object.entries(env)) {
      const value = renderTemplate(template, ctx);
      out[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    return out;
  }
}
