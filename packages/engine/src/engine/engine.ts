import { NotFoundError, ValidationError, ConflictError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { isRunEnded } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import { applyDefaults, compileSchema } from '../plan/schema.js';
import type { Plan } from '../plan/types.js';
import type { CallbackRegistry } from '../protocol/registry.js';
import type { RunRecord, Store, TriggerInfo } from '../store/types.js';
import type { ApprovalDecision } from './approval-gate.js';
import type { EngineContext } from './engine-context.js';
import { NO_EVENTS, type EngineUpdate, type ExecutorSet, type RunEventBuilder } from './ports.js';
import { RunExecution } from './run-execution.js';
import { Semaphore } from './semaphore.js';

/** Everything an engine is built from. Only main.ts (and tests) assemble one. */
export interface EngineOptions {
  readonly store: Store;
  readonly executors: ExecutorSet;
  readonly registry: CallbackRegistry;
  /** the callback server's loopback URL, and the URL containers and pods use (if different) */
  readonly callback: { readonly loopbackUrl: string; readonly advertisedUrl?: string };
  /** CO_SERVER, and the base of run links in events; defaults to the callback URL */
  readonly serverUrl?: string;
  /** folder holding one workspace folder per run */
  readonly workspaceRoot: string;
  /** keep each run's workspace after it ends (default false: removed) */
  readonly keepWorkspace?: boolean;
  readonly events?: RunEventBuilder;
  /** called after outbox rows were written (wakes the delivery worker) */
  readonly onEventsWritten?: () => void;
  /** secrets every run may read as `secrets.NAME` (masked everywhere) */
  readonly secrets?: Readonly<Record<string, string>>;
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

  constructor(options: EngineOptions) {
    this.globalSecrets = options.secrets ?? {};
    const warn = options.warn ?? ((message: string) => process.emitWarning(message));
    this.ctx = {
      store: options.store,
      executors: options.executors,
      registry: options.registry,
      events: options.events ?? NO_EVENTS,
      callback: options.callback,
      serverUrl: options.serverUrl ?? options.callback.advertisedUrl ?? options.callback.loopbackUrl,
      workspaceRoot: options.workspaceRoot,
      keepWorkspace: options.keepWorkspace ?? false,
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
   * not match.
   */
  async startRun(plan: Plan, data: JsonValue, options: StartRunOptions): Promise<RunRecord> {
    const inputs = this.checkInputs(plan, data);
    const newRun = {
      id: newId(),
      workflow: plan.name,
      workflowVersion: options.workflowVersion ?? plan.version ?? null,
      inputs,
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
    const run = await this.ctx.store.runs.create(newRun, queuedEvents);
    if (queuedEvents.length > 0) this.ctx.eventsWritten();
    this.ctx.emit({ kind: 'run', run });
    this.launch(run, plan, options.secrets ?? {});
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
    await this.ctx.store.runs.transition(runId, ['queued'], 'cancelled', this.ctx.clock(), {
      reason: message,
      endedAt: this.ctx.clock(),
    });
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
   * their outcome, unfinished task runs are recorded as lost and retried per their policy.
   */
  async recover(): Promise<RunRecord[]> {
    const runs = await this.ctx.store.runs.listByState(['queued', 'running']);
    const resumed: RunRecord[] = [];
    for (const run of runs) {
      if (this.active.has(run.id)) continue;
      this.launch(run, run.plan as unknown as Plan, {});
      resumed.push(run);
    }
    return resumed;
  }

  /** Wait for every active run to end (cancel them first if asked). */
  async close(options: { cancel?: boolean } = {}): Promise<void> {
    if (options.cancel) for (const { execution } of this.active.values()) execution.cancel('engine shutting down');
    await Promise.all([...this.active.values()].map((a) => a.done));
  }

  private launch(run: RunRecord, plan: Plan, secrets: Readonly<Record<string, string>>): void {
    const execution = new RunExecution(this.ctx, run, plan, { ...this.globalSecrets, ...secrets });
    const done = execution.execute().finally(() => this.active.delete(run.id));
    this.active.set(run.id, { execution, done });
  }

  private checkInputs(plan: Plan, data: JsonValue): JsonObject {
    const value = data ?? {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ValidationError('the event data of a run must be a JSON object');
    }
    if (plan.inputs === undefined) return value;
    const withDefaults = applyDefaults(plan.inputs, value) as JsonObject;
    const invalid = compileSchema(plan.inputs)(withDefaults);
    if (invalid !== undefined) {
      throw new ValidationError(`the event data does not match the inputs of workflow ${plan.name}: ${invalid}`);
    }
    return withDefaults;
  }
}
