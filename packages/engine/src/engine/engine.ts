import { CONFIG_DEFAULTS } from '../config/config.js';
import { ConflictError, NotFoundError, UnavailableError, messageOf } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { Masker } from '../domain/masker.js';
import { isRunEnded } from '../domain/states.js';
import type { TraceContext } from '../domain/trace-context.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { Plan } from '../plan/types.js';
import type { CallbackRegistry } from '../protocol/registry.js';
import type {
  Change,
  ClaimedRun,
  ReplicaRecord,
  RunParent,
  RunRecord,
  Store,
  TaskRunRecord,
  TriggerInfo,
} from '../store/types.js';
import { ActionCache, type CacheLimits } from './action-cache.js';
import type { ApprovalDecision } from './approval-gate.js';
import { recordDecision } from './approval-decision.js';
import { CarriedRuns } from './carried-runs.js';
import { cancelIfRunning, engineChildRuns } from './child-runs.js';
import type { EngineContext } from './engine-context.js';
import {
  NO_CACHE_FILES,
  NO_EVENTS,
  NO_TRACING,
  type CacheFiles,
  type EngineUpdate,
  type EventDataPush,
  type ExecutorSet,
  type InputSeal,
  type RunEventBuilder,
  type Tracing,
  type TraceSpan,
} from './ports.js';
import { reclaimLeftovers } from './reattach.js';
import { releaseKeptWorkspace } from './run-workspaces.js';
import { outboxWritten } from './record-move.js';
import { ReplicaLease, type ReplicaIdentity } from './replica-lease.js';
import { recordReused } from './reuse.js';
import { RunClaimer } from './run-claimer.js';
import { RunExecution } from './run-execution.js';
import { storedSteps } from './task-attempt.js';
import { cancelGroupPeers, checkInputs, groupName, refuseCallersGroup } from './run-inputs.js';
import { createClusterSlots, type TaskSlots } from './task-slots.js';

/** Default most runs one replica carries at once (runs only waiting for an approval do not count). */
export const MAX_ACTIVE_RUNS = 128;

/** How this engine takes part among replicas sharing its store (all optional). */
export interface ReplicaOptions {
  /** who it is, for `pilotage db status` (defaults: engine id `pilotage`, pid, version `dev`) */
  readonly identity?: Partial<ReplicaIdentity>;
  /** a new unique replica id (default `<engineId>/<random>`) */
  readonly newId?: () => string;
  /** lease renewal interval, ms (default 5000) */
  readonly heartbeatMs?: number;
  /** lease length, ms (default 15000): a dead replica's runs move on within about this plus a heartbeat */
  readonly leaseTtlMs?: number;
  /** most runs this replica carries at once (default MAX_ACTIVE_RUNS) */
  readonly maxActiveRuns?: number;
  /** backstop poll for queued runs, ms (default 2000; notifications wake it sooner) */
  readonly claimPollMs?: number;
  /** a replica known to be gone before its lease ends (a crashed process on this host) */
  readonly isGone?: (replica: ReplicaRecord) => Promise<boolean>;
}

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
  /**
   * keep the workspace of a run that did not succeed this long after it ended, for a rerun to
   * start from a copy (ms; default 0: released as it ends; `keepWorkspace` keeps them for ever)
   */
  readonly workspaceRetentionMs?: number;
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
   * seals the inputs of runs whose stored inputs have secrets masked, so that a run carried by
   * another replica, a resumed run and a rerun get them as sent; without it they get the masked
   * ones (`***`)
   */
  readonly inputSeal?: InputSeal;
  /** SIGTERM → SIGKILL grace, ms (default 5000) */
  readonly killGraceMs?: number;
  /** how long a component may run on after COMPONENT_STOP before it is torn down, ms (default 5000) */
  readonly stopGraceMs?: number;
  /** most task attempts running at once across every replica on the store (default 64) */
  readonly maxParallel?: number;
  readonly replica?: ReplicaOptions;
  readonly clock?: () => number;
  readonly warn?: (message: string) => void;
  /**
   * the action cache's folder and limits (default: no folder, so only entries without paths
   * restore; the limits of `CONFIG_DEFAULTS`)
   */
  readonly cache?: { readonly files: CacheFiles } & Partial<CacheLimits>;
}

/** Options of one run. */
export interface StartRunOptions {
  readonly trigger: TriggerInfo;
  /** the run's id, when the caller must know it before the run exists (a new ULID otherwise) */
  readonly id?: string;
  /** CDEvents chain to join (a triggering event's); a new one otherwise */
  readonly chainId?: string;
  /** run-scoped secrets, over the engine's (kept in memory: only this replica can carry the run with them) */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly workflowVersion?: string | null;
  /**
   * results of an earlier run to reuse, by action name (a rerun from the failed action: see
   * reuse.ts `reusableResults`); recorded as succeeded task runs before the run starts
   */
  readonly reuse?: ReadonlyMap<string, TaskRunRecord>;
  /** the trace the run's spans join (the caller's `traceparent`); a trace of its own otherwise */
  readonly traceParent?: TraceContext;
  /** the calling run and task run, for a child run (`uses:`) */
  readonly parent?: RunParent;
  /** an ended run whose kept workspace this run starts from (a rerun: `RunScope.copyFrom`) */
  readonly workspaceFrom?: string;
  /**
   * carry the run out on this replica when nothing makes it wait for a claim (no `maxRuns`, no
   * concurrency group), even after `start()`: a child run, so that it reads its caller's secrets
   */
  readonly here?: boolean;
}

/** The secrets of a run this engine did not start (a claimed or taken-over run): they are never stored. */
export type SecretsFor = (run: RunRecord) => Promise<Readonly<Record<string, string>>>;

/** What this replica remembers of a run it started, for when it claims it. */
interface Started {
  readonly secrets: Readonly<Record<string, string>>;
  /** its inputs as sent (the stored ones have secrets masked) */
  readonly inputs: JsonObject;
  /** the run's span, begun when it was queued; ended by its execution, or when forgotten */
  readonly span: TraceSpan;
  readonly at: number;
  /** recorded with task runs already (reused results of an earlier run) */
  readonly reused: boolean;
}

/** Runs started here but not claimed within this long are forgotten (another replica took them), ms. */
const STARTED_MEMORY_MS = 10 * 60_000;

/**
 * The scheduler, one replica among those sharing its store. A run is recorded `queued` by
 * `startRun` on whichever replica receives the trigger, which carries it out itself when it has
 * room; otherwise a replica with room claims it (`RunLeaseStore.claimQueued`), and carries it
 * out while its lease holds. Before `start()`, an
 * engine carries out only the runs it started itself (`pilotage run`, tests); after it, any
 * queued run, and the runs of replicas whose lease expired (`RunLeaseStore.takeOver`). Every
 * state change of a carried run goes through a store view owned by this replica, so a replica
 * that lost its lease writes nothing more (engine/carried-runs.ts). `cancelRun` and `decide`
 * work on any replica: they record intent in the store and the holder acts on it. `subscribe`
 * streams this replica's live updates; `close` waits for the runs it carries.
 */
export class Engine {
  private readonly ctx: EngineContext;
  private readonly store: Store;
  private readonly listeners = new Set<(update: EngineUpdate) => void>();
  private readonly globalSecrets: Readonly<Record<string, string>>;
  private readonly inputSeal: InputSeal | undefined;
  private readonly lease: ReplicaLease;
  private readonly claimer: RunClaimer;
  private readonly slots: TaskSlots;
  private readonly carried: CarriedRuns;
  private readonly maxActiveRuns: number;
  private readonly isGone: ((replica: ReplicaRecord) => Promise<boolean>) | undefined;
  /** runs started here, not yet claimed: their in-memory secrets and trace */
  private readonly started = new Map<string, Started>();
  private secretsFor: SecretsFor | undefined;
  private leaseStarted: Promise<string> | undefined;
  /** the lease was registered once (`withoutLease` means something only after that) */
  private leaseHeld = false;
  private unsubscribeChanges: (() => void) | undefined;
  /** claims any queued run and takes over dead replicas' runs (after `start`) */
  private serving = false;
  /** runs being recorded by `startRun` to be carried here: they take room before they are carried */
  private receiving = 0;
  /** what the first round after `start` claimed or took over */
  private firstRound: RunRecord[] | undefined;
  private intentPoll: Promise<void> | undefined;
  private closing = false;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.globalSecrets = options.secrets ?? {};
    this.inputSeal = options.inputSeal;
    const warn = options.warn ?? ((message: string) => process.emitWarning(message));
    const clock = options.clock ?? Date.now;
    const cache = new ActionCache(
      this.store.cache,
      options.cache?.files ?? NO_CACHE_FILES,
      {
        maxBytes: options.cache?.maxBytes ?? CONFIG_DEFAULTS.cacheMaxBytes,
        maxAgeMs: options.cache?.maxAgeMs ?? CONFIG_DEFAULTS.cacheMaxAgeMs,
      },
      clock,
      warn,
    );
    const replica = options.replica ?? {};
    this.maxActiveRuns = replica.maxActiveRuns ?? MAX_ACTIVE_RUNS;
    this.isGone = replica.isGone;
    const identity: ReplicaIdentity = {
      engineId: 'pilotage',
      host: 'localhost',
      pid: process.pid,
      process: null,
      version: 'dev',
      url: null,
      ...replica.identity,
    };
    this.lease = new ReplicaLease({
      store: this.store.replicas,
      identity,
      newId: replica.newId ?? (() => `${identity.engineId}/${newId().slice(-12).toLowerCase()}`),
      ...(replica.heartbeatMs === undefined ? {} : { heartbeatMs: replica.heartbeatMs }),
      ...(replica.leaseTtlMs === undefined ? {} : { ttlMs: replica.leaseTtlMs }),
      onLost: (id, why) => this.leaseLost(id, why),
      onBeat: () => this.onHeartbeat(),
      warn,
    });
    const changes = this.store.changes;
    this.slots = createClusterSlots({
      store: this.store.slots,
      owner: () => this.lease.id,
      limit: options.maxParallel ?? 64,
      released: () => changes.publish({ kind: 'slot' }),
      warn,
    });
    this.ctx = {
      store: this.store,
      executors: options.executors,
      registry: options.registry,
      events: options.events ?? NO_EVENTS,
      tracing: options.tracing ?? NO_TRACING,
      callback: options.callback,
      serverUrl: options.serverUrl ?? options.callback.advertisedUrl ?? options.callback.loopbackUrl,
      keepWorkspace: options.keepWorkspace ?? false,
      workspaceRetentionMs: options.workspaceRetentionMs ?? 0,
      pushEventData: options.pushEventData,
      killGraceMs: options.killGraceMs ?? 5000,
      stopGraceMs: options.stopGraceMs ?? 5000,
      slots: this.slots,
      secrets: this.globalSecrets,
      inputSeal: options.inputSeal,
      children: engineChildRuns({
        startRun: (plan, data, runOptions) => this.startRun(plan, data, runOptions),
        cancelRun: (runId, message) => this.cancelRun(runId, message),
        waitForRun: (runId) => this.waitForRun(runId),
      }),
      cache,
      clock,
      emit: (update) => this.emit(update),
      eventsWritten: options.onEventsWritten ?? (() => undefined),
      warn,
    };
    this.carried = new CarriedRuns({
      warn,
      ended: (run) => {
        this.claimer.freed();
        if (run !== undefined && isRunEnded(run.state)) this.freed(run);
      },
    });
    this.claimer = new RunClaimer({
      leases: this.store.leases,
      owner: () => (this.closing ? undefined : this.lease.id),
      room: () => this.maxActiveRuns - this.carried.busy(),
      only: () => (this.serving ? undefined : [...this.started.keys()]),
      takesOver: () => this.serving,
      releaseGone: () => this.releaseGone(),
      launch: (claimed, takenOver) => this.launch(claimed, takenOver),
      ...(replica.claimPollMs === undefined ? {} : { pollMs: replica.claimPollMs }),
      warn,
    });
  }

  /** This replica's id in the store now (undefined before its lease started, or while it has none). */
  get replicaId(): string | undefined {
    return this.lease.id;
  }

  /**
   * Its lease started and it holds none now: it lost it (a renewal that found it expired, or no
   * renewal for as long as it could still be valid) and has not registered again yet, which the
   * next heartbeat does. Meanwhile it refuses new runs (`UnavailableError`); `/readyz` says so, so
   * that a load balancer sends them to another replica.
   */
  get withoutLease(): boolean {
    return this.leaseHeld && this.lease.id === undefined && !this.closing;
  }

  /** Receive every live update of the runs this replica carries; returns the function that stops them. */
  subscribe(listener: (update: EngineUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Take part in the cluster: remove what executors hold for ended task runs, register this
   * replica's lease, then claim queued runs while it has room and take over the runs of replicas
   * whose lease expired (re-attaching their components, or recording them lost and retrying per
   * policy). `secretsFor` gives a claimed run its secrets (they are never stored). Resolves with
   * the runs the first round claimed or took over.
   */
  async start(secretsFor?: SecretsFor): Promise<RunRecord[]> {
    if (secretsFor !== undefined) this.secretsFor = secretsFor;
    await reclaimLeftovers(this.ctx);
    await this.ensureLease();
    this.serving = true;
    this.firstRound = [];
    this.claimer.takeOverSoon();
    await this.claimer.settled();
    const first = this.firstRound;
    this.firstRound = undefined;
    return first;
  }

  /** The former name of `start`. */
  recover(secretsFor?: SecretsFor): Promise<RunRecord[]> {
    return this.start(secretsFor);
  }

  /**
   * Validate `data` against the plan's `inputs` (defaults applied) and record a `queued` run,
   * carried out by this replica when it has room and nothing makes the run wait for a claim (no
   * `maxRuns`, no concurrency group), else claimed by a replica with room (before `start()`, by
   * this one only; a top-level run from an engine that serves nothing, `pilotage run`, by this one
   * only: its `waiter`, ended with it if it dies first, engine/abandoned-runs.ts). Throws
   * ValidationError naming the field when the data does not match, UnavailableError when this
   * replica is stopping. The inputs are stored, answered and emitted with the run's secrets
   * masked (every form `Masker` knows); only the run's own actions see them as sent. When
   * masking changed them and the engine has an InputSeal, they are also stored sealed, so that
   * whichever replica carries the run (`inputsOf`) reads them as sent.
   */
  async startRun(plan: Plan, data: JsonValue, options: StartRunOptions): Promise<RunRecord> {
    if (this.closing) throw new UnavailableError('the engine is stopping and starts no new runs');
    const masker = new Masker(Object.values({ ...this.globalSecrets, ...options.secrets }));
    const inputs = checkInputs(plan, data, masker);
    const me = await this.ensureLease();
    const id = options.id ?? newId();
    const masked = masker.json(inputs);
    const sealed =
      this.inputSeal !== undefined && JSON.stringify(masked) !== JSON.stringify(inputs)
        ? this.inputSeal.seal(id, inputs)
        : undefined;
    // rendered from the inputs as sent, stored masked like them
    const group = plan.group ? masker.text(groupName(plan, inputs)) : null;
    if (group !== null && options.parent) await refuseCallersGroup(plan.name, group, options.parent, this.store.runs);
    const reuse = options.reuse !== undefined && options.reuse.size > 0 ? options.reuse : undefined;
    // Before `start()` a run without a cap is this engine's from the first moment: no replica
    // serving the same store may take it (it could lack the secrets given here). After it, a
    // replica with room carries the runs it receives too: recorded with this replica as owner
    // in the same statement, they skip the claim (a notification every replica answers with a
    // claim query, and a read of the secrets and inputs by whichever wins); a full replica
    // queues them for any replica with room. A run with reused results is held while they are
    // recorded, so no replica starts it before. A run with a cap or of a concurrency group
    // always goes through the claim, which decides them.
    const roomHere = this.maxActiveRuns - this.carried.busy() - this.receiving > 0;
    const keep =
      (!this.serving || options.here === true || roomHere) && plan.maxRuns === undefined && plan.group === undefined;
    // counted as carried from now on, so that concurrent requests do not all take the last room
    if (keep) this.receiving += 1;
    try {
      return await this.recordNewRun(plan, options, { id, inputs, masked, sealed, group, reuse, keep, me });
    } finally {
      if (keep) this.receiving -= 1;
    }
  }

  /** `startRun`'s second half: record the run, then carry it out here (`keep`) or queue it for a claim. */
  private async recordNewRun(
    plan: Plan,
    options: StartRunOptions,
    prepared: {
      readonly id: string;
      readonly inputs: JsonObject;
      readonly masked: JsonObject;
      readonly sealed: string | undefined;
      readonly group: string | null;
      readonly reuse: ReadonlyMap<string, TaskRunRecord> | undefined;
      readonly keep: boolean;
      readonly me: string;
    },
  ): Promise<RunRecord> {
    const { id, inputs, masked, sealed, group, reuse, keep, me } = prepared;
    const newRun = {
      id,
      workflow: plan.name,
      workflowVersion: options.workflowVersion ?? plan.version ?? null,
      inputs: masked,
      plan: plan as unknown as JsonValue,
      trigger: options.trigger,
      chainId: options.chainId ?? newId(),
      createdAt: this.ctx.clock(),
      maxRuns: plan.maxRuns ?? null,
      owner: keep || reuse !== undefined ? me : null,
      // queued by an engine that serves nothing (`pilotage run`): its own to claim, ended with it
      // (a child run stays claimable by any replica with room, as its caller's replica may be full)
      waiter: keep || reuse !== undefined || this.serving || options.parent !== undefined ? null : me,
      parent: options.parent ?? null,
      concurrencyGroup: group,
      workspaceFrom: options.workspaceFrom ?? null,
    };
    // the queued event is written in the same transaction as the run (it needs no run number)
    const provisional: RunRecord = {
      ...newRun,
      number: 0,
      state: 'queued',
      reason: null,
      outputs: null,
      workspace: { from: newRun.workspaceFrom, state: null, expiresAt: null },
      startedAt: null,
      endedAt: null,
    };
    const queuedEvents = this.ctx.events.runQueued(provisional);
    const run = await this.store.runs.create(
      sealed === undefined ? newRun : { ...newRun, sealedInputs: sealed },
      queuedEvents,
    );
    const span = this.runSpan(run, options.traceParent);
    if (queuedEvents.length > 0) outboxWritten(this.ctx, queuedEvents, span);
    this.emit({ kind: 'run', run });
    this.remember(run.id, {
      secrets: options.secrets ?? {},
      inputs,
      span,
      at: this.ctx.clock(),
      reused: reuse !== undefined,
    });
    if (reuse !== undefined) await recordReused({ ...this.ctx, store: this.store.ownedBy(me) }, run, plan, reuse);
    if (plan.group?.cancelInProgress && run.concurrencyGroup !== null) {
      await cancelGroupPeers(run, this.store.runs, (runId, message) => cancelIfRunning(this, runId, message));
    }
    if (keep) {
      this.launch({ run, cancelRequested: null, cancels: 0 }, false);
      return run;
    }
    if (reuse !== undefined) await this.store.leases.release(run.id, me);
    this.store.changes.publish({ kind: 'queued', runId: run.id, origin: me });
    this.claimer.kick();
    return { ...run, owner: null };
  }

  /** Resolves with the run's final record once it has ended, whichever replica carries it. */
  async waitForRun(runId: string): Promise<RunRecord> {
    for (;;) {
      const carried = this.carried.get(runId);
      if (carried !== undefined) await carried.done;
      const run = await this.store.runs.get(runId);
      if (run === undefined) throw new NotFoundError(`run ${runId} not found`);
      if (isRunEnded(run.state)) return run;
      await this.nextChangeOf(runId, 250);
    }
  }

  /**
   * Remove what executors still hold for task runs and runs that have ended (`reclaimLeftovers`,
   * as `start` does): the local processes and containers of runs ended by another process.
   */
  reclaimLeftovers(): Promise<void> {
    return reclaimLeftovers(this.ctx);
  }

  /**
   * Remove run `runId`'s kept workspace on every executor of this engine (the cleanup job, once
   * it expired). Rejects when an executor could not remove it.
   */
  releaseKeptWorkspace(runId: string): Promise<void> {
    return releaseKeptWorkspace(this.ctx.executors, runId);
  }

  /**
   * Cancel a run, on any replica: running components are stopped and nothing more starts. A run
   * nobody has claimed ends `cancelled` at once. Otherwise the cancel is recorded in the store,
   * and the run's holder acts on it (this replica at once, another when told or at its next
   * heartbeat), as does a replica that takes the run over. Each request counts once: a second
   * one stops the finally stages too. ConflictError when it has already ended.
   */
  async cancelRun(runId: string, message = 'cancelled by request'): Promise<void> {
    if (this.carried.get(runId) !== undefined) {
      // recorded first, so that a replica taking the run over (this one dies) cancels it too
      const count = await this.store.leases.requestCancel(runId, message);
      if (count === 0) throw new ConflictError(`run ${runId} has already ended`);
      if (this.carried.cancel(runId, message, count)) return;
      // let go meanwhile: its next holder acts on the recorded intent
      this.store.changes.publish({ kind: 'intent', runId, ...this.origin() });
      return;
    }
    const run = await this.store.runs.get(runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    if (isRunEnded(run.state)) throw new ConflictError(`run ${runId} has already ended (${run.state})`);
    if (run.state === 'queued' && run.owner === null) {
      const at = this.ctx.clock();
      const next: RunRecord = { ...run, state: 'cancelled', reason: message, endedAt: at };
      if (!this.started.has(run.id)) await this.resumeEvents(run);
      const rows = this.ctx.events.runFinished(next, 'cancel', message);
      if (await this.store.leases.cancelQueued(run.id, at, message, rows)) {
        if (rows.length > 0) outboxWritten(this.ctx, rows, this.started.get(run.id)?.span);
        this.forget(run.id);
        this.emit({ kind: 'run', run: next });
        // the oldest waiter of a group leaving lets the next one be claimed
        this.freed(next);
        return;
      }
    }
    // claimed meanwhile, or carried by another replica: its holder acts on the recorded intent
    const count = await this.store.leases.requestCancel(runId, message);
    if (count === 0) {
      const now = await this.store.runs.get(runId);
      throw new ConflictError(`run ${runId} has already ended (${now?.state ?? 'gone'})`);
    }
    if (this.carried.cancel(runId, message, count)) return;
    this.store.changes.publish({ kind: 'intent', runId, ...this.origin() });
  }

  /**
   * Approve or reject approval stage `stage` of run `runId`, on any replica: the decision is
   * recorded in the store (the first one wins) and the run's holder moves the stage on. Resolves
   * with the approval task run as decided. ConflictError when the stage is not waiting (not
   * reached, decided already, timed out, the run ended).
   */
  async decide(runId: string, stage: string, decision: ApprovalDecision): Promise<TaskRunRecord> {
    const gate = await recordDecision(this.store, runId, stage, decision);
    if (!this.carried.refreshGate(runId, gate.id))
      this.store.changes.publish({ kind: 'intent', runId, ...this.origin() });
    return gate;
  }

  /** The action result cache (list and clear its entries). */
  get cache(): ActionCache {
    return this.ctx.cache;
  }

  /** Ids of the runs this replica carries out now. */
  activeRuns(): string[] {
    return this.carried.ids();
  }

  /**
   * Let go of the runs this replica carries, for other replicas (or this engine's next start) to
   * carry on: only those waiting for an approval (`waiting`), or all. Nothing is recorded on
   * them: local processes are stopped first, containers and pods are left to the next holder,
   * and the runs are released in the store. Resolves with how many were let go.
   */
  async release(which: 'waiting' | 'all'): Promise<number> {
    const owner = this.lease.id;
    const runs = this.carried.abandon(which, 'this replica let go of the run');
    await Promise.all(runs.map((r) => r.done.catch(() => undefined)));
    if (owner !== undefined && runs.length > 0) {
      for (const run of runs) await this.store.leases.release(run.id, run.owner).catch(() => false);
      this.store.changes.publish({ kind: 'released', origin: owner });
    }
    return runs.length;
  }

  /** Whether another replica on the store holds a live lease (one to hand runs over to). */
  async othersAlive(): Promise<boolean> {
    const me = this.lease.id;
    return (await this.store.replicas.list()).some((r) => r.alive && r.id !== me);
  }

  /**
   * Stop claiming, wait for every run this replica carries to end (cancel them first if asked),
   * then end its lease. Runs it never claimed stay `queued` for other replicas or the next start.
   */
  async close(options: { cancel?: boolean } = {}): Promise<void> {
    this.closing = true;
    await this.claimer.stop();
    if (options.cancel) this.carried.cancelAll('engine shutting down');
    await this.carried.settled();
    for (const id of [...this.started.keys()]) this.forget(id);
    this.unsubscribeChanges?.();
    await this.slots.close();
    const id = this.lease.id;
    await this.lease.stop(true);
    if (id !== undefined) this.store.changes.publish({ kind: 'released', origin: id });
  }

  /** The replica's lease, registered once (and the change feed subscribed with it). */
  private async ensureLease(): Promise<string> {
    this.leaseStarted ??= (async () => {
      // control changes only: live-view ones are heard while a live view follows something
      this.unsubscribeChanges = this.store.changes.subscribe((change) => this.onChange(change), { controlOnly: true });
      const id = await this.lease.start();
      this.leaseHeld = true;
      this.claimer.start();
      return id;
    })();
    await this.leaseStarted;
    const id = this.lease.id;
    if (id === undefined) throw new UnavailableError('this replica holds no lease on the store now; retry shortly');
    return id;
  }

  private remember(runId: string, started: Started): void {
    for (const [id, s] of this.started) if (started.at - s.at > STARTED_MEMORY_MS) this.forget(id);
    this.started.set(runId, started);
  }

  /** Forget a run started here that this replica will not carry (cancelled, or claimed elsewhere). */
  private forget(runId: string): void {
    const started = this.started.get(runId);
    if (started === undefined) return;
    this.started.delete(runId);
    started.span.set({ 'pilotage.carried_here': false });
    started.span.end();
  }

  /** Carry out a run just claimed (or taken over) by this replica. */
  private launch(claimed: ClaimedRun, takenOver: boolean): void {
    const { run } = claimed;
    const owner = run.owner;
    if (owner === null || this.carried.get(run.id) !== undefined) return;
    const started = this.started.get(run.id);
    this.started.delete(run.id);
    this.firstRound?.push(run);
    const view = this.store.ownedBy(owner);
    const ctx: EngineContext = { ...this.ctx, store: view };
    const plan = run.plan as unknown as Plan;
    this.carried.add(run.id, owner, view, async (carry) => {
      // a run started elsewhere (another replica, a crashed process): its events go on its chain
      if (started === undefined) await this.resumeEvents(run);
      const secrets = started?.secrets ?? (await this.secretsOf(run));
      const inputs = started?.inputs ?? (await this.inputsOf(run));
      const span = started?.span ?? this.runSpan(run, undefined, takenOver);
      const execution = new RunExecution(ctx, run, plan, { ...this.globalSecrets, ...secrets }, span, inputs);
      carry(execution);
      if (claimed.cancelRequested !== null) this.carried.cancel(run.id, claimed.cancelRequested, claimed.cancels);
      // a decision taken while nobody carried the run is read by the gate when it begins
      return execution.execute({ recordedHere: started !== undefined && !started.reused });
    });
  }

  /** Give the event builder the events already written for `run` (it links to them). */
  private async resumeEvents(run: RunRecord): Promise<void> {
    const { events } = this.ctx;
    if (events.resume === undefined) return;
    events.resume(run, await this.store.outbox.listByRun(run.id));
  }

  /**
   * A run's inputs as they were sent: unsealed when the store holds them sealed and this engine
   * can open them (a rerun starts from these), else the stored ones, secrets masked (a warning
   * says why when a seal could not be opened).
   */
  async inputsOf(run: RunRecord): Promise<JsonObject> {
    const sealed = await this.store.runs.sealedInputs(run.id);
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

  private async secretsOf(run: RunRecord): Promise<Readonly<Record<string, string>>> {
    if (this.secretsFor === undefined) return {};
    try {
      return await this.secretsFor(run);
    } catch (error) {
      this.ctx.warn(`run ${run.id} goes on without its secrets: ${messageOf(error)}`);
      return {};
    }
  }

  /** This replica's lease was lost: stop acting on every run held under `id`, and let go of them. */
  private leaseLost(id: string, why: string): void {
    this.ctx.warn(`replica ${id} lost its lease (${why}); it stops acting on the runs it held`);
    const runs = this.carried.abandon('all', `replica ${id} lost its lease`, id);
    void Promise.all(runs.map((r) => r.done.catch(() => undefined))).then(async () => {
      try {
        await this.store.leases.releaseAll(id);
        await this.store.replicas.release(id);
        this.store.changes.publish({ kind: 'released', origin: id });
      } catch (error) {
        this.ctx.warn(
          `could not let go of the runs of replica ${id}: ${messageOf(error)} (they move on when its lease ends)`,
        );
      }
    });
  }

  /** Mark as expired the live-looking replicas known to be gone (their process died on this host). */
  private async releaseGone(): Promise<void> {
    if (this.isGone === undefined) return;
    const me = this.lease.id;
    for (const replica of await this.store.replicas.list()) {
      if (!replica.alive || replica.id === me) continue;
      if (await this.isGone(replica)) await this.store.replicas.release(replica.id);
    }
  }

  private onHeartbeat(): void {
    if (this.serving) this.claimer.takeOverSoon();
    else this.claimer.kick();
    this.pollIntents();
  }

  private onChange(change: Change): void {
    switch (change.kind) {
      case 'queued':
        this.claimer.kick();
        return;
      case 'freed':
        // this replica's own ends kick its claimer directly
        if (change.origin !== this.lease.id) this.claimer.freed();
        return;
      case 'released':
        if (this.serving) this.claimer.takeOverSoon();
        return;
      case 'slot':
        this.slots.wake();
        return;
      case 'intent':
        if (change.runId !== undefined && this.carried.get(change.runId) !== undefined) this.pollIntents();
        return;
      case 'callback':
        if (change.taskRunId !== undefined && change.origin !== this.lease.id) this.absorbCallback(change.taskRunId);
        return;
      case 'resync':
        this.slots.wake();
        this.onHeartbeat();
        return;
      default:
        return;
    }
  }

  /**
   * Another replica applied a callback of task run `taskRunId` through the store: if its session
   * lives here, it takes in what the store now holds (service/store-callbacks.ts).
   */
  private absorbCallback(taskRunId: string): void {
    const session = this.ctx.registry.sessionOfTask(taskRunId);
    if (session === undefined) return;
    void this.store.taskRuns.get(taskRunId).then(
      (task) => (task === undefined ? undefined : session.absorb(storedSteps(task))),
      (error: unknown) =>
        this.ctx.warn(`task run ${taskRunId}: could not read a callback applied elsewhere: ${messageOf(error)}`),
    );
  }

  /** Act on the cancels and decisions recorded in the store for runs this replica carries. */
  private pollIntents(): void {
    const me = this.lease.id;
    if (me === undefined || this.intentPoll !== undefined || this.carried.size === 0) return;
    this.intentPoll = (async () => {
      try {
        for (const { runId, reason, count } of await this.store.leases.cancelRequests(me)) {
          this.carried.cancel(runId, reason, count);
        }
        for (const { runId, taskRunId } of await this.store.leases.decidedGates(me)) {
          this.carried.refreshGate(runId, taskRunId);
        }
      } catch (error) {
        this.ctx.warn(`reading cancels and decisions: ${messageOf(error)}`);
      }
    })().finally(() => {
      this.intentPoll = undefined;
    });
  }

  /**
   * Run `run` ended (or left the queue): if it held or waited for a concurrency group or a
   * workflow's cap, tell every replica's claimer, so a run waiting for them is claimed now rather
   * than at the next poll (a NOTIFY on PostgreSQL).
   */
  private freed(run: RunRecord): void {
    if (run.concurrencyGroup === null && (run.plan as unknown as Plan).maxRuns === undefined) return;
    this.store.changes.publish({ kind: 'freed', runId: run.id, ...this.origin() });
  }

  /** Tell local listeners, and (on a shared store) the other replicas' live streams. */
  private emit(update: EngineUpdate): void {
    for (const listener of this.listeners) {
      try {
        listener(update);
      } catch (error) {
        this.ctx.warn(`an update listener threw: ${String(error)}`);
      }
    }
    const { changes } = this.store;
    if (!changes.shared || update.kind === 'refused') return;
    const origin = this.origin();
    switch (update.kind) {
      case 'run':
        changes.publish({ kind: 'run', runId: update.run.id, ...origin });
        return;
      case 'task':
      case 'status':
        changes.publish({ kind: update.kind, runId: update.task.runId, taskRunId: update.task.id, ...origin });
        return;
      case 'log':
        changes.publish({ kind: 'log', runId: update.runId, taskRunId: update.taskRunId, ...origin });
        return;
    }
  }

  private origin(): { origin?: string } {
    const id = this.lease.id;
    return id === undefined ? {} : { origin: id };
  }

  /** Resolves at the next update of `runId` seen here (local or from another replica), or after `ms`. */
  private nextChangeOf(runId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        offLocal();
        offRemote();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const offLocal = this.subscribe((u) => {
        if (u.kind === 'run' && u.run.id === runId) done();
      });
      const offRemote = this.store.changes.subscribe((c) => {
        if ((c.kind === 'run' && c.runId === runId) || c.kind === 'resync') done();
      });
    });
  }

  /**
   * The span of one run, from its start (or its resumption by another replica: a span of its
   * own, since the previous holder's span ended with it) to its end; RunExecution ends it.
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
}
