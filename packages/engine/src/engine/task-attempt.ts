import { LeaseLostError, messageOf } from '../domain/errors.js';
import { newId, newToken } from '../domain/ids.js';
import type { Masker } from '../domain/masker.js';
import type { TaskRunState } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import { unhonouredWarning } from '../executor/capabilities.js';
import type { Executor, ExitInfo, LogLine, RunWorkspace, TaskHandle } from '../executor/executor.js';
import type { PlanAction } from '../plan/types.js';
import { compileSchema, withoutRequired } from '../plan/schema.js';
import { CoutCollector } from '../protocol/cout.js';
import { buildContractEnv } from '../protocol/env.js';
import type { ContractSession } from '../protocol/session.js';
import { hashToken } from '../protocol/tokens.js';
import type { AcceptedStep, ContractListener, ContractStep, ResultBody, SessionOptions } from '../protocol/types.js';
import { decideVerdict } from '../protocol/verdict.js';
import type { MatrixPlace, NewLogLine, RunRecord, TaskRunPatch, TaskRunRecord } from '../store/types.js';
import type { Cancellation, StopReason } from './cancellation.js';
import type { EngineContext } from './engine-context.js';
import { LogBuffer } from './log-buffer.js';
import { recordTaskMove, type PassedThroughMove } from './record-move.js';
import { eventDataSealId, NO_SPAN, type TraceSpan } from './ports.js';
import { endSpanAs, tracedStep } from './trace-span.js';
import { setLongTimeout } from '../domain/long-timer.js';

/** How one attempt ended. `output` is unmasked, for later actions' expressions. */
export interface AttemptOutcome {
  readonly state: TaskRunState;
  readonly output: JsonObject;
  readonly taskRunId: string;
  /**
   * false when the action must not be tried again whatever its retry policy: this attempt may
   * still be running somewhere (engine/reattach.ts). Absent: the policy decides.
   */
  readonly retryable?: false;
}

/**
 * How many times an attempt's end is written checking that no other replica recorded a callback
 * meanwhile (`conclude`); the last try is written without the check.
 */
const MAX_END_TRIES = 3;

/** The contract steps and the result the store holds for `task`, for a session to take in. */
export function storedSteps(task: TaskRunRecord): { seen: ContractStep[]; result?: ResultBody } {
  const seen = Object.keys(task.steps) as ContractStep[];
  if (task.result === null) return { seen };
  return {
    seen,
    result: { status: task.result, output: task.output, ...(task.message === null ? {} : { message: task.message }) },
  };
}

/** What an attempt is given by its run. */
export interface AttemptInput {
  readonly run: RunRecord;
  readonly action: PlanAction;
  readonly attempt: number;
  /** the rendered event data (unmasked), or the error that rendering raised */
  readonly eventData: JsonValue | Error;
  /** process env from the workflow and the action (rendered, unmasked) */
  readonly env: Readonly<Record<string, string>>;
  /** the run's workspace on the attempt's executor, prepared at the first call (see RunExecution) */
  readonly workspace: () => Promise<RunWorkspace>;
  readonly executorName: string;
  readonly masker: Masker;
  readonly stop: Cancellation;
  /** the action's span (secrets masked): the attempt's span is its child */
  readonly span: TraceSpan;
  /** its combination, when the action has a matrix (recorded on the task run) */
  readonly matrix?: MatrixPlace;
  /**
   * Called once, when the component has ended (before its end is recorded): it gives back the
   * attempt's places under the run's and the engine's `maxParallel`, which count components running.
   */
  readonly componentEnded?: () => void;
}

/**
 * One attempt of one action: records the task run, starts the component through its executor,
 * serves its callbacks (as the session's listener), enforces the timeout, decides the verdict
 * and records it. Never throws for a component's misbehaviour: that is a state.
 */
export class TaskAttempt implements ContractListener {
  private task!: TaskRunRecord;
  private handle: Promise<TaskHandle | undefined> = Promise.resolve(undefined);
  private session: ContractSession | undefined;
  private readonly cout = new CoutCollector();
  private logs!: LogBuffer;
  private timedOut = false;
  private stoppedBy: StopReason | undefined;
  private tornDown = false;
  private engineFailure: string | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private span: TraceSpan = NO_SPAN;
  /** `running` of a component that ended before it was written: written with its end */
  private unrecordedRunning: PassedThroughMove | undefined;
  /** settles at the component's first callback, which ends the wait before `running` is written */
  private readonly calledBack = signal();

  constructor(
    private readonly ctx: EngineContext,
    private readonly input: AttemptInput,
  ) {}

  /** Run the attempt to its end, inside its span. */
  async run(): Promise<AttemptOutcome> {
    this.span = this.attemptSpan(false);
    return this.traced(() => this.start());
  }

  /** The attempt's span: a child of its action's, its context handed to the component (TRACEPARENT). */
  private attemptSpan(resumed: boolean): TraceSpan {
    const { action, attempt, executorName } = this.input;
    return this.input.span.child(`attempt ${action.name} #${attempt}`, {
      'pilotage.action': action.name,
      'pilotage.attempt': attempt,
      'pilotage.executor': executorName,
      'pilotage.attempt.resumed': resumed || undefined,
    });
  }

  /** `work` with the attempt's span ended as its outcome says (or, undefined, as nothing done). */
  private async traced<T extends AttemptOutcome | undefined>(work: () => Promise<T>): Promise<T> {
    try {
      const outcome = await work();
      if (outcome === undefined) {
        this.span.end();
      } else {
        // the component's last message says why in its own words (masked: the span is)
        this.span.set({ 'pilotage.message': this.task.message ?? undefined });
        endSpanAs(this.span, outcome.state, this.task.reason);
      }
      return outcome;
    } catch (error) {
      this.span.end(messageOf(error));
      throw error;
    }
  }

  private async start(): Promise<AttemptOutcome> {
    const { ctx, input } = this;
    const { action, run } = input;
    const component = action.component;
    const token = newToken();
    const data = input.eventData instanceof Error ? null : input.eventData;
    const id = newId();
    const masked = data === null ? null : input.masker.json(data);
    // held as sent for another replica serving GET /data, or carrying the attempt on
    const sealed =
      data !== null && ctx.inputSeal !== undefined && JSON.stringify(masked) !== JSON.stringify(data)
        ? ctx.inputSeal.seal(eventDataSealId(id), { data })
        : undefined;
    const ready = await this.readyToStart();
    const created = ctx.clock();
    this.task = await ctx.store.taskRuns.create({
      id,
      runId: run.id,
      stage: action.stage,
      action: action.name,
      attempt: input.attempt,
      component: `${component.name}@${component.version}`,
      executor: input.executorName,
      tokenHash: hashToken(token),
      eventData: masked,
      ...(sealed === undefined ? {} : { sealedEventData: sealed }),
      ...(input.matrix ? { matrix: input.matrix } : {}),
      createdAt: created,
      // ready: created `starting` (history: pending, then starting), one transaction less per task
      ...('problem' in ready ? {} : { state: 'starting' as const, startingAt: created }),
    });
    this.logs = new LogBuffer(ctx.store.logs, this.task.id);
    this.span.set({ 'pilotage.task_run.id': this.task.id });
    ctx.emit({ kind: 'task', task: this.task });
    if ('problem' in ready) return this.finishEarly('pending', ready.to, ready.problem);
    const { executor, workspace, baseUrl } = ready;
    const contractEnv = buildContractEnv({
      baseUrl,
      token,
      taskRunId: this.task.id,
      runId: run.id,
      workflow: run.workflow,
      stage: action.stage,
      action: action.name,
      attempt: input.attempt,
      eventData: data,
      workspace: workspace.mountPath,
      server: ctx.serverUrl,
      ...(component.dir ? { componentDir: component.dir } : {}),
      ...(this.span.context ? { traceContext: this.span.context } : {}),
    });
    this.session = ctx.registry.register(token, this.sessionOptions(data));

    const env = { ...component.env, ...input.env, ...contractEnv };
    const startSpan = this.span.child(`start on ${executor.name}`);
    const started = executor.start(
      {
        runId: run.id,
        taskRunId: this.task.id,
        attempt: input.attempt,
        workflow: run.workflow,
        stage: action.stage,
        action: action.name,
        component,
        env,
        ...(action.passEnv === undefined ? {} : { passEnv: action.passEnv }),
        workspace,
        timeoutMs: action.timeoutMs,
        ...(startSpan === NO_SPAN ? {} : { trace: { step: (name, step) => tracedStep(startSpan, name, step) } }),
      },
      (line) => this.onLog(line),
    );
    this.handle = started.then(
      (h) => h,
      () => undefined,
    );
    let handle: TaskHandle;
    try {
      handle = await started;
      startSpan.set({ 'pilotage.executor.ref': handle.ref });
      startSpan.end();
    } catch (error) {
      startSpan.end(messageOf(error));
      this.session.end('errored');
      return this.finishEarly('starting', 'errored', `could not start: ${messageOf(error)}`);
    }
    const startedAt = ctx.clock();
    const running: TaskRunPatch = { ref: handle.ref, facts: this.factsOf(handle, executor.name), startedAt };
    // the timeout and the stop signal hold from the start, while `running` waits to be written
    const guard = this.guard(handle, input.action.timeoutMs);
    try {
      // A component that ends within RECORD_RUNNING_AFTER_MS, calling nothing back meanwhile, has
      // its `running` recorded with its end, in one write (history and CDEvents as if written
      // apart): one write less per short step. One that calls back is shown running at once.
      if (await endsWithin(handle, RECORD_RUNNING_AFTER_MS, this.calledBack.settled)) {
        this.unrecordedRunning = { state: 'running', at: startedAt, patch: running };
      } else {
        await this.move(['starting'], 'running', running);
      }
    } catch (error) {
      guard.release();
      throw error;
    }
    return this.watch(handle, executor.destroy.bind(executor), guard);
  }

  /**
   * What the component needs before it can start: valid event data, no stop yet, the run's
   * workspace on its executor and a callback URL it can reach; or why it cannot start (the state
   * the attempt ends in, and the reason).
   */
  private async readyToStart(): Promise<
    | { readonly executor: Executor; readonly workspace: RunWorkspace; readonly baseUrl: string }
    | { readonly to: TaskRunState; readonly problem: string }
  > {
    const { ctx, input } = this;
    const invalid = this.checkEventData(input.eventData);
    if (invalid !== undefined) return { to: 'errored', problem: invalid };
    if (input.stop.stopped) return { to: 'cancelled', problem: input.stop.reason?.message ?? 'cancelled' };
    const executor = ctx.executors.get(input.executorName);
    let workspace: RunWorkspace;
    try {
      workspace = await input.workspace();
    } catch (error) {
      return { to: 'errored', problem: `could not prepare the run's workspace: ${messageOf(error)}` };
    }
    try {
      return {
        executor,
        workspace,
        baseUrl: executor.callbackBaseUrl(ctx.callback.loopbackUrl, ctx.callback.advertisedUrl),
      };
    } catch (error) {
      // the executor cannot give components a way back (no advertised URL): a setting to fix
      return { to: 'errored', problem: messageOf(error) };
    }
  }

  /**
   * Carry on the attempt recorded as `task`, which a previous engine process started and left
   * `starting` or `running` (engine/reattach.ts decides when). `attach` re-acquires the
   * component, delivering its lines to this attempt; the callback session is re-opened under the
   * task run's stored token hash with the steps and result the store recorded; `stdout` (the
   * stored stdout lines) feeds the `[COUT]` outputs; `timeoutMs` is what is left of the attempt's
   * timeout. From there on it ends as `run()` does. Resolves undefined, having changed nothing,
   * when `attach` finds nothing to re-acquire (the caller records the task run lost).
   */
  async resume(
    task: TaskRunRecord,
    resumed: {
      readonly attach: (onLog: (line: LogLine) => void) => Promise<TaskHandle | undefined>;
      readonly destroy: (ref: string) => Promise<void>;
      readonly stdout: readonly string[];
      readonly timeoutMs: number;
    },
  ): Promise<AttemptOutcome | undefined> {
    this.span = this.attemptSpan(true);
    this.task = task;
    this.span.set({ 'pilotage.task_run.id': task.id });
    return this.traced(() => this.reattach(task, resumed));
  }

  private async reattach(
    task: TaskRunRecord,
    resumed: Parameters<TaskAttempt['resume']>[1],
  ): Promise<AttemptOutcome | undefined> {
    const { ctx } = this;
    this.logs = new LogBuffer(ctx.store.logs, task.id);
    for (const line of resumed.stdout) this.cout.add(line);
    const handle = await resumed.attach((line) => this.onLog(line));
    if (handle === undefined) return undefined;
    this.handle = Promise.resolve(handle);
    // Attempts always store a token hash; without one, no call can reach the session anyway.
    this.session = ctx.registry.reopen(task.tokenHash ?? `none:${task.id}`, {
      ...this.sessionOptions(await this.sentEventData(task)),
      restored: storedSteps(task),
    });
    if (task.state !== 'running') {
      await this.move([task.state], 'running', {
        ref: handle.ref,
        facts: this.factsOf(handle, task.executor),
        startedAt: ctx.clock(),
      });
    }
    return this.watch(handle, resumed.destroy, this.guard(handle, resumed.timeoutMs));
  }

  /**
   * The event data task run `task` was started with: its stored copy, opened from its seal when
   * secrets were masked in it; rendered again from the run when the seal cannot be opened.
   */
  private async sentEventData(task: TaskRunRecord): Promise<JsonValue> {
    const { ctx, input } = this;
    const rendered = input.eventData instanceof Error ? task.eventData : input.eventData;
    const sealed = await ctx.store.taskRuns.sealedEventData(task.id);
    if (sealed === undefined) return task.eventData;
    if (ctx.inputSeal === undefined) return rendered;
    try {
      return (ctx.inputSeal.open(eventDataSealId(task.id), sealed) as { data: JsonValue }).data;
    } catch (error) {
      ctx.warn(`task run ${task.id}: cannot read its sealed event data (${messageOf(error)}); rendering it again`);
      return rendered;
    }
  }

  /** The executor's facts, and a `warning` naming the component fields it does not honour. */
  private factsOf(handle: TaskHandle, executorName: string): Readonly<Record<string, string>> {
    const warning = unhonouredWarning(executorName, this.input.action.component);
    return warning === undefined ? handle.facts : { ...handle.facts, warning };
  }

  /** The callback session of this attempt's task run, serving `eventData` and checking outputs. */
  private sessionOptions(eventData: JsonValue): SessionOptions {
    const { outputs } = this.input.action.component;
    const validateOutput = outputs === undefined ? undefined : compileSchema(outputs);
    // interim outputs may be partial: a progress report need not hold every required field yet
    const validateStatusOutput = outputs === undefined ? undefined : compileSchema(withoutRequired(outputs));
    return {
      taskRunId: this.task.id,
      runId: this.input.run.id,
      eventData,
      ...(validateOutput ? { validateOutput } : {}),
      ...(validateStatusOutput ? { validateStatusOutput } : {}),
      listener: this,
    };
  }

  /**
   * Enforce the timeout (`timeoutMs` from now) and the stop signal on `handle`'s component until
   * `release()`. `left` resolves when the replica lets go of the run and the component outlives it.
   */
  private guard(handle: TaskHandle, timeoutMs: number): Guard {
    const { ctx, input } = this;
    // a long timer: `timeout: 25d` is over Node's timer limit (24.8 days)
    const cancelTimeout = setLongTimeout(() => {
      this.timedOut = true;
      void handle.kill('timeout', ctx.killGraceMs);
    }, timeoutMs);
    // a replica letting go of the run leaves a component that outlives it to the next holder
    let leave: (() => void) | undefined;
    const left = new Promise<undefined>((resolve) => (leave = () => resolve(undefined)));
    const offStop = input.stop.onStop((reason) => {
      this.stoppedBy = reason;
      if (reason.kind === 'abandon' && this.survivesEngine()) leave?.();
      else void handle.kill(reason.kind, ctx.killGraceMs);
    });
    return {
      left,
      release: () => {
        cancelTimeout();
        clearTimeout(this.stopTimer);
        offStop();
      },
    };
  }

  /** Wait for the component to end, with its `guard` (released here), and record the end. */
  private async watch(
    handle: TaskHandle,
    destroy: (ref: string) => Promise<void>,
    guard: Guard,
  ): Promise<AttemptOutcome> {
    const { ctx, input } = this;
    let exit: ExitInfo | undefined;
    try {
      exit = await Promise.race([handle.wait(), guard.left]);
    } finally {
      guard.release();
    }
    if (exit === undefined) {
      this.session?.end('running');
      throw new LeaseLostError(
        `run ${input.run.id} was let go; ${handle.ref} is left to its next holder`,
        input.run.id,
      );
    }
    this.span.event('exit', {
      'pilotage.exit_code': exit.exitCode ?? undefined,
      'pilotage.exit.signal': exit.signal,
      'pilotage.exit.reason': exit.reason,
      'pilotage.exit.oom_killed': exit.oomKilled,
    });
    // The task run ended when its component did: that is its end time, and its places go back
    // now. An action that was waiting for one starts (recorded, then started) before this end is
    // written: its component starts while the end's transaction runs, instead of after it.
    const endedAt = ctx.clock();
    if (input.componentEnded !== undefined) {
      input.componentEnded();
      await new Promise((resolve) => setImmediate(resolve));
    }
    // a callback still being recorded when the process exited counts
    await this.session?.settled();
    // the last lines are written with the task run's end, in its transaction
    const outcome = await this.conclude(exit, await this.logs.take(), endedAt);
    await tracedStep(this.span, 'teardown', () => destroy(handle.ref)).catch((error: unknown) =>
      ctx.warn(`could not clean up ${handle.ref}: ${messageOf(error)}`),
    );
    return outcome;
  }

  /** Whether this attempt's component outlives the engine process (containers, pods). */
  private survivesEngine(): boolean {
    try {
      return this.ctx.executors.get(this.input.executorName).survivesEngine === true;
    } catch {
      return false;
    }
  }

  /**
   * Decide the attempt's end from what its session holds, and record it. On a store other
   * processes share, the end's write also checks that no other replica recorded a callback of
   * this task run that the session has not taken in (a TASK_RESULT posted to another replica just
   * before the component exited counts): when one did, the write changes nothing, the session
   * takes in what the store holds, and the end is decided again. So the usual end costs one
   * statement, not a read and a write (bench/README.md, "Session 11").
   */
  private async conclude(exit: ExitInfo, lastLines: readonly NewLogLine[], endedAt: number): Promise<AttemptOutcome> {
    const session = this.session!;
    const shared = this.ctx.store.changes.shared;
    const through = this.unrecordedRunning;
    const from: TaskRunState[] = [through === undefined ? 'running' : 'starting'];
    let logs = lastLines;
    for (let tries = 1; ; tries += 1) {
      const { state, output, patch } = this.endOf(exit, endedAt);
      if (tries === 1) session.end(state);
      else session.endAgain(state);
      // checked a few times at most: a component still calling another replica cannot hold its end back
      const steps = shared && tries <= MAX_END_TRIES ? session.seen.size : undefined;
      const next = await recordTaskMove(
        this.ctx,
        this.input.run,
        this.task,
        from,
        state,
        patch,
        this.span,
        logs,
        through,
        steps,
      );
      if (next !== undefined) {
        this.task = next;
        return { state, output, taskRunId: this.task.id };
      }
      // the last lines were stored by that write, moved or not
      logs = [];
      const stored = steps === undefined ? undefined : await this.ctx.store.taskRuns.get(this.task.id);
      if (stored === undefined || !from.includes(stored.state)) {
        throw new Error(`task run ${this.task.id} was not in ${from.join('|')} when moving to ${state}`);
      }
      await session.absorb(storedSteps(stored));
    }
  }

  /** The end the session, the component's exit and the attempt's stop give: its state, output and record. */
  private endOf(exit: ExitInfo, endedAt: number): { state: TaskRunState; output: JsonObject; patch: TaskRunPatch } {
    const session = this.session!;
    const component = this.input.action.component;
    const effectiveExit: ExitInfo = this.tornDown && exit.exitCode === null ? { exitCode: 0 } : exit;
    const verdict = decideVerdict({
      ...(session.result ? { result: session.result } : {}),
      cout: { output: this.cout.output, ...(this.cout.result ? { result: this.cout.result } : {}) },
      exit: effectiveExit,
      strict: component.strict,
      seen: session.seen,
      timedOut: this.timedOut,
      cancelled: this.stoppedBy !== undefined && !this.timedOut,
    });
    let state: TaskRunState = verdict.state;
    let reason = verdict.reason;
    if (this.stoppedBy && !this.timedOut) {
      // a run timeout kills running tasks: they failed; a cancel or fail-fast cancels them
      state = this.stoppedBy.kind === 'timeout' ? 'failed' : 'cancelled';
      reason = this.stoppedBy.message;
    } else if (this.engineFailure) {
      state = 'errored';
      reason = this.engineFailure;
    } else if (exit.error !== undefined && !this.timedOut) {
      // the platform failed it (image not pulled, pod evicted or deleted): the engine's side
      state = 'errored';
      reason = exit.error;
    } else if (state === 'succeeded' && component.outputs !== undefined && !session.result?.output) {
      const invalid = compileSchema(component.outputs)(verdict.output);
      if (invalid) {
        state = 'failed';
        reason = `outputs do not match the outputs schema of ${component.name}: ${invalid}`;
      }
    }
    const message = verdict.message ?? this.task.message;
    return {
      state,
      output: verdict.output,
      patch: {
        output: this.input.masker.json(verdict.output),
        result: session.result?.status ?? this.cout.result ?? null,
        message: message === null || message === undefined ? null : this.input.masker.text(message),
        reason,
        exitCode: exit.exitCode,
        endedAt,
      },
    };
  }

  /** End before the component ran (bad event data, spawn failure, cancelled before start). */
  private async finishEarly(from: 'pending' | 'starting', to: TaskRunState, reason: string): Promise<AttemptOutcome> {
    this.session?.end(to);
    await this.logs.close().catch(() => undefined);
    await this.move([from], to, { reason: this.input.masker.text(reason), endedAt: this.ctx.clock() });
    return { state: to, output: {}, taskRunId: this.task.id };
  }

  /** The event data rendered and matches the component's inputs schema? Returns the problem. */
  private checkEventData(data: JsonValue | Error): string | undefined {
    if (data instanceof Error) return `could not build the event data: ${data.message}`;
    const schema = this.input.action.component.inputs;
    if (schema === undefined) return undefined;
    const invalid = compileSchema(schema)(data);
    return invalid === undefined
      ? undefined
      : `event data does not match the inputs schema of ${this.input.action.component.name}: ${invalid}`;
  }

  private async move(
    from: readonly TaskRunState[],
    to: TaskRunState,
    patch: TaskRunPatch,
    logs?: readonly NewLogLine[],
    through?: PassedThroughMove,
  ): Promise<void> {
    const next = await recordTaskMove(this.ctx, this.input.run, this.task, from, to, patch, this.span, logs, through);
    if (!next) throw new Error(`task run ${this.task.id} was not in ${from.join('|')} when moving to ${to}`);
    this.task = next;
  }

  private onLog(line: LogLine): void {
    const masked = this.input.masker.active ? { ...line, line: this.input.masker.text(line.line) } : line;
    if (line.stream === 'stdout') this.cout.add(line.line);
    this.logs.push({ at: masked.ts, stream: masked.stream, line: masked.line });
    this.ctx.emit({ kind: 'log', taskRunId: this.task.id, runId: this.input.run.id, line: masked });
  }

  /**
   * ContractListener: persist each accepted callback before the component gets its 200. Each
   * step is one store write (one transaction): the step mark goes with what the step records.
   */
  async onStep(accepted: AcceptedStep, at: number): Promise<void> {
    this.calledBack.settle();
    const { store } = this.ctx;
    const masker = this.input.masker;
    this.span.event(`callback ${accepted.step}`, {
      'pilotage.progress': accepted.step === 'task-status' ? (accepted.body.progress ?? undefined) : undefined,
      'pilotage.result': accepted.step === 'task-result' ? accepted.body.status : undefined,
    });
    switch (accepted.step) {
      case 'component-start':
        await store.taskRuns.markStep(this.task.id, accepted.step, at);
        this.onAbsorbed('component-start');
        break;
      case 'task-status': {
        const { body } = accepted;
        const patch: TaskRunPatch = {
          ...(body.message !== undefined ? { message: masker.text(body.message) } : {}),
          ...(body.output !== undefined ? { output: masker.json(body.output) } : {}),
        };
        // the report, the task run's latest message/output and the step mark: one transaction
        const status = await store.statuses.record(this.task.id, {
          at,
          message: patch.message ?? null,
          progress: body.progress ?? null,
          output: patch.output ?? null,
        });
        const { dropped } = this.task;
        this.task = {
          ...this.task,
          ...patch,
          ...(status.dropped
            ? { dropped: { ...dropped, statuses: dropped.statuses + 1 } }
            : { statusCount: Math.max(this.task.statusCount, status.seq) }),
        };
        // a report past the status caps is not stored: live views get the task run's latest message
        this.ctx.emit(status.dropped ? { kind: 'task', task: this.task } : { kind: 'status', task: this.task, status });
        break;
      }
      case 'task-result': {
        const { body } = accepted;
        // recorded at once: a crash after this point must not lose the reported output
        const patch: TaskRunPatch = {
          result: body.status,
          output: masker.json({ ...this.cout.output, ...(body.output ?? {}) }),
          ...(body.message !== undefined ? { message: masker.text(body.message) } : {}),
        };
        await store.taskRuns.update(this.task.id, patch, { step: accepted.step, at });
        this.task = { ...this.task, ...patch };
        this.ctx.emit({ kind: 'task', task: this.task });
        break;
      }
      case 'component-stop':
        await store.taskRuns.markStep(this.task.id, accepted.step, at);
        this.onAbsorbed('component-stop');
        break;
      default:
        await store.taskRuns.markStep(this.task.id, accepted.step, at);
        break;
    }
  }

  /**
   * ContractListener: act on a step once it is recorded, here or by another replica (then
   * absorbed): after component-start, push the event data to the component's endpoint; after
   * component-stop, give the program a moment to exit, then tear it down.
   */
  onAbsorbed(step: ContractStep): void {
    if (step === 'component-start' && this.input.action.component.endpoint) {
      setImmediate(() => void this.pushEventData());
    } else if (step === 'component-stop' && this.stopTimer === undefined) {
      this.stopTimer = setTimeout(() => {
        this.tornDown = true;
        void this.handle.then((h) => h?.kill('teardown', this.ctx.killGraceMs));
      }, this.ctx.stopGraceMs);
    }
  }

  /** ContractListener: a refused call (400/409) is reported live (`pilotage component test`). */
  onRefused(step: string, status: number, code: string, message: string, at: number): void {
    this.span.event('callback refused', {
      'pilotage.callback': step,
      'http.response.status_code': status,
      'pilotage.error.code': code,
    });
    this.ctx.emit({
      kind: 'refused',
      taskRunId: this.task.id,
      runId: this.input.run.id,
      step,
      status,
      code,
      message,
      at,
    });
  }

  /** ContractListener: a component-reported CDEvent goes through the outbox. */
  async onCdevent(event: JsonObject, at: number): Promise<string | undefined> {
    const build = this.ctx.events.componentEvent;
    if (!build) return 'this engine has no CDEvents support configured';
    const built = build(this.input.run, this.task, this.input.masker.json(event), at);
    if (typeof built === 'string') return built;
    await this.ctx.store.outbox.append([built]);
    this.ctx.eventsWritten();
    return undefined;
  }

  private async pushEventData(): Promise<void> {
    const handle = await this.handle;
    const url = handle?.endpoint ? await handle.endpoint() : handle?.endpointUrl;
    if (!handle || !url) return;
    const data = this.input.eventData instanceof Error ? null : this.input.eventData;
    try {
      await tracedStep(this.span, 'push event data', () => this.ctx.pushEventData(url, data, this.input.stop.signal));
    } catch (error) {
      this.engineFailure = `could not push the event data to the endpoint ${url}: ${messageOf(error)}`;
      this.onLog({ stream: 'stderr', line: `[pilotage] ${this.engineFailure}`, ts: this.ctx.clock() });
      await handle.kill('endpoint push failed', this.ctx.killGraceMs);
    }
  }
}

/**
 * How long a started component may run before its `running` is written on its own (at once when
 * it calls back: its callbacks show it working); one that ends sooner has it written with its end
 * (one write less per short step: in a burst of short steps on two cores most components end
 * between 5 and 50 ms after their start). Meanwhile the store and live views show it `starting`,
 * which recovery treats as `running` (engine/reattach.ts finds components by task run id, not by
 * the recorded reference); its timeout and stop signal hold from the start (`TaskAttempt.guard`),
 * and its start time is the real one.
 */
export const RECORD_RUNNING_AFTER_MS = 50;

/** The timeout and stop signal of a started component, until released (`TaskAttempt.guard`). */
interface Guard {
  /** resolves when the replica lets go of the run and the component outlives it */
  readonly left: Promise<undefined>;
  release(): void;
}

/** A promise and the function that settles it (a callback may come before anyone waits for it). */
function signal(): { readonly settled: Promise<void>; readonly settle: () => void } {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { settled, settle };
}

/** Whether `handle`'s component ends within `ms`, waiting no longer, nor once `sooner` resolves. */
function endsWithin(handle: TaskHandle, ms: number, sooner: Promise<void>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void sooner.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
    void handle.wait().then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
