import { NotFoundError, ValidationError, ConflictError, messageOf } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { refuseForbiddenKeys } from '../domain/json-text.js';
import { Masker } from '../domain/masker.js';
import { isRunEnded } from '../domain/states.js';
import type { TraceContext } from '../domain/trace-context.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import { applyDefaults, compileSchema } from '../plan/schema.js';
import type { Plan } from '../plan/types.js';
import type { CallbackRegistry } from '../protocol/registry.js';
import type { RunRecord, Store, TaskRunRecord, TriggerInfo } from '../store/types.js';
import type { ApprovalDecision } from './approval-gate.js';
import type { EngineContext } from './engine-context.js';
import {
  NO_EVENTS,
  NO_TRACING,
  type EngineUpdate,
  type EventDataPush,
  type ExecutorSet,
  type RunEventBuilder,
  type Tracing,
  type TraceSpan,
  type InputSeal,
} from './ports.js';
import { reclaimLeftovers } from './reattach.js';
import { outboxWritten, recordRunMove } from './record-move.js';
import { recordReused } from './reuse.js';
import { RunExecution } from './run-execution.js';
import { Semaphore } from './semaphore.js';
import { WorkflowSlots, type SlotRequest } from './workflow-slots.js';

/** Everything an engine is built from. Only main.ts (and tests) assemble one. */
export interface EngineOptions {
  readonly store: Store;
  readonly executors: ExecutorSet;
  readonly registry: CallbackRegistry;
  /** the callback server's loopback URL, and the URL containers and pods use (if different) */
  readonly callback: { readonly loopbackUrl: string; readonly advertisedUrl?: string };
  /** CO_SERVER, and the base of run links in events; defaults to the callback URL */
  readonly serverUrl?: string;
  /** keep each run's workspace after it ends (default false: released) */
  readonly keepWorkspace?: boolean;
  /** how event data reaches a component's endpoint (protocol/endpoint-push.ts) */
  readonly pushEventData: EventDataPush;
  readonly events?: RunEventBuilder;
  /** where spans go (default: none recorded) */
  readonly tracing?: Tracing;
  /** called after outbox rows were written (wakes the delivery worker) */
  readonly onEventsWritten?: () => void;
  /** secrets every run may read as `secrets.NAME` (masked everywhere) */
  readonly secrets?: Readonly<Record<string, string>>;
  /**
   * seals the inputs of runs whose stored inputs have secrets masked, so that a resumed run and a
   * rerun get them as sent; without it they get the masked ones (`***`)
   */
  readonly inputSeal?: InputSeal;
  /** SIGTERM → SIGKILL grace, ms (default 5000) */
  readonly killGraceMs?: number;
  /** how long a component may run on after COMPONENT_STOP before it is torn down, ms (default 5000) */
  readonly stopGraceMs?: number;
  /** most task attempts running at once across all runs (default 64) */
  readonly maxParallel?: number;
  readonly clock?: () => number;
  readonly warn?: (message: string) => void;
}

/** Options of one run. */
export interface StartRunOptions {
  readonly trigger: TriggerInfo;
  /** CDEvents chain to join (a triggering event's); a new one otherwise */
  readonly chainId?: string;
  /** run-scoped secrets, over the engine's */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly workflowVersion?: string | null;
  /**
   * results of an earlier run to reuse, by action name (a rerun from the failed action: see
   * reuse.ts `reusableResults`); recorded as succeeded task runs before the run starts
   */
  readonly reuse?: ReadonlyMap<string, TaskRunRecord>;
  /** the trace the run's spans join (the caller's `traceparent`); a trace of its own otherwise */
  readonly traceParent?: TraceContext;
}

/**
 * The scheduler. `startRun` records a run and carries it out in the background; `waitForRun`,
 * `cancelRun` and `decide` act on it; `subscribe` streams live updates; `recover` resumes what a
 * previous process left unfinished; `close` cancels nothing but waits for active runs.
 */
export class Engine {
  private readonly ctx: EngineContext;
  private readonly active = new Map<string, { execution: RunExecution; done: Promise<RunRecord> }>();
  private readonly listeners = new Set<(update: EngineUpdate) => void>();
  private readonly globalSecrets: Readonly<Record<string, string>>;
  private readonly inputSeal: InputSeal | undefined;
  /** per-workflow `maxRuns` caps, and the runs waiting in `queued` for a slot */
  private readonly runSlots = new WorkflowSlots();
  private readonly waiting = new Map<string, SlotRequest>();
  private closing = false;

  constructor(options: EngineOptions) {
    this.globalSecrets = options.secrets ?? {};
    this.inputSeal = options.inputSeal;
    const warn = options.warn ?? ((message: string) => process.emitWarning(message));
    this.ctx = {
      store: options.store,
      executors: options.executors,
      registry: options.registry,
      events: options.events ?? NO_EVENTS,
      tracing: options.tracing ?? NO_TRACING,
      callback: options.callback,
      serverUrl: options.serverUrl ?? options.callback.advertisedUrl ?? options.callback.loopbackUrl,
      keepWorkspace: options.keepWorkspace ?? false,
      pushEventData: options.pushEventData,
      killGraceMs: options.killGraceMs ?? 5000,
      stopGraceMs: options.stopGraceMs ?? 5000,
      slots: new Semaphore(options.maxParallel ?? 64),
      secrets: this.globalSecrets,
      clock: options.clock ?? Date.now,
      emit: (update) => {
        for (const listener of this.listeners) {
          try {
            listener(update);
          } catch (error) {
            warn(`an update listener threw: ${String(error)}`);
          }
        }
      },
      eventsWritten: options.onEventsWritten ?? (() => undefined),
      warn,
    };
  }

  /** Receive every live update; returns the function that stops them. */
  subscribe(listener: (update: EngineUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Validate `data` against the plan's `inputs` (defaults applied), record a `queued` run, and
   * carry it out in the background. Throws ValidationError naming the field when the data does
   * not match. The inputs are stored, answered and emitted with the run's secrets masked (every
   * form `Masker` knows); only the run's own actions see them as sent. When masking changed them
   * and the engine has an InputSeal, they are also stored sealed, for `recover` and `inputsOf`.
   */
  async startRun(plan: Plan, data: JsonValue, options: StartRunOptions): Promise<RunRecord> {
    const masker = new Masker(Object.values({ ...this.globalSecrets, ...options.secrets }));
    const inputs = this.checkInputs(plan, data, masker);
    const id = newId();
    const masked = masker.json(inputs);
    const sealed =
      this.inputSeal !== undefined && JSON.stringify(masked) !== JSON.stringify(inputs)
        ? this.inputSeal.seal(id, inputs)
        : undefined;
    const newRun = {
      id,
      workflow: plan.name,
      workflowVersion: options.workflowVersion ?? plan.version ?? null,
      inputs: masked,
      plan: plan as unknown as JsonValue,
      trigger: options.trigger,
      chainId: options.chainId ?? newId(),
      createdAt: this.ctx.clock(),
    };
    // the queued event is written in the same transaction as the run (it needs no run number)
    const provisional: RunRecord = {
      ...newRun,
      number: 0,
      state: 'queued',
      reason: null,
      startedAt: null,
      endedAt: null,
    };
    const queuedEvents = this.ctx.events.runQueued(provisional);
    const run = await this.ctx.store.runs.create(
      sealed === undefined ? newRun : { ...newRun, sealedInputs: sealed },
      queuedEvents,
    );
    const span = this.runSpan(run, options.traceParent);
    if (queuedEvents.length > 0) outboxWritten(this.ctx, queuedEvents, span);
    this.ctx.emit({ kind: 'run', run });
    if (options.reuse !== undefined && options.reuse.size > 0) await recordReused(this.ctx, run, plan, options.reuse);
    this.launch(run, plan, options.secrets ?? {}, span, inputs);
    return run;
  }

  /** Resolves with the run's final record once it has ended. */
  async waitForRun(runId: string): Promise<RunRecord> {
    const active = this.active.get(runId);
    if (active) return active.done;
    const run = await this.ctx.store.runs.get(runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    if (!isRunEnded(run.state))
      throw new ConflictError(`run ${runId} is ${run.state} but not carried out by this engine`);
    return run;
  }

  /** Cancel a run: running components are stopped, nothing more starts. */
  async cancelRun(runId: string, message = 'cancelled by request'): Promise<void> {
    const active = this.active.get(runId);
    if (active) {
      active.execution.cancel(message);
      return;
    }
    const run = await this.ctx.store.runs.get(runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    if (isRunEnded(run.state)) throw new ConflictError(`run ${runId} has already ended (${run.state})`);
    // the same bookkeeping as any run end: its pipelinerun.finished CDEvent and a live update
    const ended = await recordRunMove(
      this.ctx,
      run,
      ['queued'],
      'cancelled',
      { reason: message, endedAt: this.ctx.clock() },
      (next) => this.ctx.events.runFinished(next, 'cancel', message),
    );
    if (ended === undefined) throw new ConflictError(`run ${runId} is ${run.state}; it was not queued any more`);
  }

  /** Approve or reject a waiting approval stage. */
  decide(runId: string, stage: string, decision: ApprovalDecision): void {
    const active = this.active.get(runId);
    if (!active || !active.execution.decide(stage, decision)) {
      throw new ConflictError(`run ${runId} has no approval stage ${stage} waiting for a decision`);
    }
  }

  /** Ids of the runs this engine is carrying out now. */
  activeRuns(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Resume every run a previous process left `queued` or `running`: actions that ended keep
   * their outcome; an unfinished task run is re-attached when its executor still has its
   * component (containers), else recorded as lost and retried per its policy (engine/reattach.ts).
   * First, what executors still hold for ended or unknown task runs is removed. `secretsFor`
   * gives a resumed run its secrets again (they are never stored with the run).
   */
  async recover(secretsFor?: (run: RunRecord) => Promise<Readonly<Record<string, string>>>): Promise<RunRecord[]> {
    await reclaimLeftovers(this.ctx);
    const found = await this.ctx.store.runs.listByState(['queued', 'running']);
    // running runs take their instance slots first; queued ones then wait in creation order
    const runs = [...found.filter((r) => r.state === 'running'), ...found.filter((r) => r.state !== 'running')];
    const resumed: RunRecord[] = [];
    for (const run of runs) {
      if (this.active.has(run.id)) continue;
      const span = this.runSpan(run, undefined, true);
      const secrets = secretsFor ? await secretsFor(run) : {};
      this.launch(run, run.plan as unknown as Plan, secrets, span, await this.inputsOf(run));
      resumed.push(run);
    }
    return resumed;
  }

  /**
   * A run's inputs as they were sent: unsealed when the store holds them sealed and this engine
   * can open them (a rerun starts from these), else the stored ones, secrets masked (a warning
   * says why when a seal could not be opened).
   */
  async inputsOf(run: RunRecord): Promise<JsonObject> {
    const sealed = await this.ctx.store.runs.sealedInputs(run.id);
    if (sealed === undefined) return run.inputs;
    if (this.inputSeal === undefined) {
      this.ctx.warn(
        `run ${run.id}: its inputs held a secret and this engine has no key to read them; using them masked`,
      );
      return run.inputs;
    }
    try {
      return this.inputSeal.open(run.id, sealed);
    } catch (error) {
      this.ctx.warn(`run ${run.id}: cannot read its sealed inputs (${messageOf(error)}); using them masked`);
      return run.inputs;
    }
  }

  /**
   * Leave every active run that is only waiting for an approval to the next engine process
   * (shutdown): nothing is recorded, `recover` carries them on. Returns how many.
   */
  detachWaiting(): number {
    let count = 0;
    for (const { execution } of this.active.values()) if (execution.detach()) count += 1;
    return count;
  }

  /**
   * Wait for every active run to end (cancel them first if asked). Runs still waiting for an
   * instance slot stop waiting at once and stay `queued` in the store: the next `recover()`
   * starts them.
   */
  async close(options: { cancel?: boolean } = {}): Promise<void> {
    this.closing = true;
    for (const request of [...this.waiting.values()]) request.abort();
    if (options.cancel) for (const { execution } of this.active.values()) execution.cancel('engine shutting down');
    await Promise.all([...this.active.values()].map((a) => a.done));
  }

  /** Carry `run` out; `inputs` are its unmasked inputs when this process has them (default: the stored ones). */
  private launch(
    run: RunRecord,
    plan: Plan,
    secrets: Readonly<Record<string, string>>,
    span: TraceSpan,
    inputs: JsonObject = run.inputs,
  ): void {
    const execution = new RunExecution(this.ctx, run, plan, { ...this.globalSecrets, ...secrets }, span, inputs);
    const done = (async () => {
      const release = await this.admit(run, plan, execution);
      if (release === undefined) return this.leftWaiting(run, execution);
      try {
        return await execution.execute();
      } finally {
        release();
      }
    })().finally(() => this.active.delete(run.id));
    this.active.set(run.id, { execution, done });
  }

  /**
   * The span of one run, from its start (or its resumption by `recover`: a span of its own, since
   * the previous process's span ended with it) to its end; RunExecution ends it.
   */
  private runSpan(run: RunRecord, parent: TraceContext | undefined, resumed = false): TraceSpan {
    return this.ctx.tracing.start(`run ${run.workflow}`, {
      ...(parent === undefined ? {} : { parent }),
      attributes: {
        'pilotage.workflow': run.workflow,
        'pilotage.workflow.version': run.workflowVersion ?? undefined,
        'pilotage.run.id': run.id,
        'pilotage.run.number': run.number,
        'pilotage.trigger': run.trigger.kind,
        'pilotage.run.resumed': resumed || undefined,
        'cdevents.chain_id': run.chainId,
      },
    });
  }

  /**
   * An instance slot of the run's workflow (plan `maxRuns`): at once for a run that was already
   * running or whose plan sets no cap; else after the runs queued before it. Undefined when the
   * wait ended without one (the run was cancelled, or the engine is closing).
   */
  private async admit(run: RunRecord, plan: Plan, execution: RunExecution): Promise<(() => void) | undefined> {
    if (run.state === 'running' || plan.maxRuns === undefined) return this.runSlots.take(run.workflow);
    if (this.closing) return undefined;
    const request = this.runSlots.request(run.workflow, plan.maxRuns);
    this.waiting.set(run.id, request);
    const off = execution.stop.onStop(() => request.abort());
    try {
      return await request.granted;
    } finally {
      off();
      this.waiting.delete(run.id);
    }
  }

  /** A run that never got its slot: cancelled if asked (queued → cancelled), else left queued. */
  private async leftWaiting(run: RunRecord, execution: RunExecution): Promise<RunRecord> {
    const reason = execution.stop.reason;
    if (this.closing || reason === undefined) {
      execution.endSpan(run);
      return run;
    }
    const patch = { reason: reason.message, endedAt: this.ctx.clock() };
    const ended = await recordRunMove(
      this.ctx,
      run,
      ['queued'],
      'cancelled',
      patch,
      (next) => this.ctx.events.runFinished(next, 'cancel', reason.message),
      execution.span,
    );
    const final = ended ?? (await this.ctx.store.runs.get(run.id)) ?? run;
    execution.endSpan(final);
    return final;
  }

  /** `data` with the plan's defaults; a ValidationError (its message masked) when it does not match. */
  private checkInputs(plan: Plan, data: JsonValue, masker: Masker): JsonObject {
    const value = data ?? {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ValidationError('the event data of a run must be a JSON object');
    }
    refuseForbiddenKeys(value, 'data');
    if (plan.inputs === undefined) return value;
    const withDefaults = applyDefaults(plan.inputs, value) as JsonObject;
    const invalid = compileSchema(plan.inputs)(withDefaults);
    if (invalid !== undefined) {
      throw new ValidationError(
        masker.text(`the event data does not match the inputs of workflow ${plan.name}: ${invalid}`),
      );
    }
    return withDefaults;
  }
}
