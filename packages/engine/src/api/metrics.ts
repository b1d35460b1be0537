import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { RUN_STATES, isTaskEnded } from '../domain/states.js';
import type { EngineUpdate } from '../engine/ports.js';
import { isCallbackStep } from '../protocol/body.js';
import type { Store } from '../store/types.js';

/** Buckets of request-sized durations (HTTP requests, component callbacks), seconds. */
const REQUEST_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Buckets of task-run durations, seconds: a second to an hour. */
const TASK_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The route label of requests that matched no route (so 404 scans cannot explode the label set). */
export const UNMATCHED_ROUTE = 'unmatched';

/** What `ServerMetrics` reads: the store (at scrape time) and the engine's activity. */
export interface ServerMetricsSources {
  readonly store: Pick<Store, 'runs' | 'deliveries'>;
  /** ids of the runs this process carries out now (`Engine.activeRuns`) */
  readonly activeRuns: () => readonly string[];
  /** `Engine.subscribe`: task updates feed the duration histogram and the active-attempt gauge */
  readonly subscribe: (listener: (update: EngineUpdate) => void) => () => void;
}

/** One finished HTTP request, as the metrics plugin reports it. */
export interface RequestSample {
  readonly method: string;
  /** the route pattern (`/v1/runs/:id`), never the URL: callback URLs carry their token */
  readonly route: string | undefined;
  readonly status: number;
  readonly seconds: number;
  /** the callback step (`task-status`, `data`…) when the route is a component callback */
  readonly callbackStep?: string;
}

/**
 * The server's Prometheus metrics in a registry of their own (never prom-client's global one,
 * so several servers in one process, as in tests, do not collide):
 * - `pilotage_runs{state}`: runs in the store by state, read at scrape time;
 * - `pilotage_queue_depth`: runs waiting to start (`queued`);
 * - `pilotage_runs_active`: runs this process carries out now;
 * - `pilotage_task_attempts_active`: task attempts of this process that are starting or running;
 * - `pilotage_task_run_duration_seconds{outcome,executor}`: ended task runs, from start (creation
 *   if it never started) to end; `outcome` is the final state;
 * - `pilotage_callback_duration_seconds{step,status}`: component callbacks, receipt to answer;
 * - `pilotage_http_request_duration_seconds{method,route,status}`: every request by route pattern;
 * - `pilotage_event_deliveries_pending`: CDEvent deliveries waiting for a sink (all sinks);
 * - Node's default process metrics (`process_*`, `nodejs_*`).
 * Call `close()` to stop listening to the engine.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #sources: ServerMetricsSources;
  readonly #runs: Gauge<'state'>;
  readonly #queueDepth: Gauge;
  readonly #pendingDeliveries: Gauge;
  readonly #http: Histogram<'method' | 'route' | 'status'>;
  readonly #callbacks: Histogram<'step' | 'status'>;
  readonly #taskDuration: Histogram<'outcome' | 'executor'>;
  /** ids of this process's task attempts that are starting or running */
  readonly #activeAttempts = new Set<string>();
  /** the latest ended task ids already observed (bounded) */
  readonly #endedRecently = new Set<string>();
  readonly #unsubscribe: () => void;

  constructor(sources: ServerMetricsSources) {
    this.#sources = sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#runs = new Gauge({
      name: 'pilotage_runs',
      help: 'Runs in the store by state',
      labelNames: ['state'],
      registers,
    });
    this.#queueDepth = new Gauge({ name: 'pilotage_queue_depth', help: 'Runs waiting to start (queued)', registers });
    const activeRuns = (): number => this.#sources.activeRuns().length;
    new Gauge({
      name: 'pilotage_runs_active',
      help: 'Runs this server process is carrying out',
      registers,
      collect() {
        this.set(activeRuns());
      },
    });
    const attempts = this.#activeAttempts;
    new Gauge({
      name: 'pilotage_task_attempts_active',
      help: 'Task attempts of this process that are starting or running',
      registers,
      collect() {
        this.set(attempts.size);
      },
    });
    this.#taskDuration = new Histogram({
      name: 'pilotage_task_run_duration_seconds',
      help: 'Ended task runs: start (or creation, if it never started) to end, by final state and executor',
      labelNames: ['outcome', 'executor'],
      buckets: TASK_BUCKETS_S,
      registers,
    });
    this.#callbacks = new Histogram({
      name: 'pilotage_callback_duration_seconds',
      help: 'Component callbacks: receipt to answer (durable writes included), by contract step and HTTP status',
      labelNames: ['step', 'status'],
      buckets: REQUEST_BUCKETS_S,
      registers,
    });
    this.#http = new Histogram({
      name: 'pilotage_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_BUCKETS_S,
      registers,
    });
    this.#pendingDeliveries = new Gauge({
      name: 'pilotage_event_deliveries_pending',
      help: 'CDEvent deliveries waiting to be sent, over all sinks',
      registers,
    });
    this.#unsubscribe = sources.subscribe((update) => this.#onUpdate(update));
  }

  /** Record one answered request (the metrics plugin's onResponse hook). */
  observeRequest(sample: RequestSample): void {
    const status = String(sample.status);
    this.#http.observe(
      { method: sample.method, route: sample.route ?? UNMATCHED_ROUTE, status },
      Math.max(0, sample.seconds),
    );
    if (sample.callbackStep !== undefined) {
      const step =
        sample.callbackStep === 'data' || isCallbackStep(sample.callbackStep) ? sample.callbackStep : 'other';
      this.#callbacks.observe({ step, status }, Math.max(0, sample.seconds));
    }
  }

  /**
   * The exposition text, after reading the store's counts. A store that cannot answer (closed
   * during shutdown) leaves the store gauges at their last values; `onStoreError` hears why.
   */
  async scrape(onStoreError: (error: unknown) => void): Promise<string> {
    try {
      const [byState, pending] = await Promise.all([
        this.#sources.store.runs.countByState(),
        this.#sources.store.deliveries.countPending(),
      ]);
      for (const state of RUN_STATES) this.#runs.set({ state }, byState[state]);
      this.#queueDepth.set(byState.queued);
      this.#pendingDeliveries.set(pending);
    } catch (error) {
      onStoreError(error);
    }
    return this.registry.metrics();
  }

  /** The Content-Type of `scrape()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stop listening to the engine. Safe to repeat. */
  close(): void {
    this.#unsubscribe();
    this.#activeAttempts.clear();
  }

  #onUpdate(update: EngineUpdate): void {
    if (update.kind !== 'task') return;
    const { task } = update;
    if (task.state === 'starting' || task.state === 'running') {
      this.#activeAttempts.add(task.id);
      return;
    }
    if (!isTaskEnded(task.state)) return;
    this.#activeAttempts.delete(task.id);
    // a skipped action never ran; an ended record seen twice counts once
    if (task.state === 'skipped' || task.endedAt === null || this.#seenEnded(task.id)) return;
    const from = task.startedAt ?? task.createdAt;
    this.#taskDuration.observe(
      { outcome: task.state, executor: task.executor },
      Math.max(0, task.endedAt - from) / 1000,
    );
  }

  /** True when this ended task id was already counted (a small memory of the latest ids). */
  #seenEnded(id: string): boolean {
    if (this.#endedRecently.has(id)) return true;
    this.#endedRecently.add(id);
    if (this.#endedRecently.size > 10_000) {
      const oldest = this.#endedRecently.values().next();
      if (oldest.done !== true) this.#endedRecently.delete(oldest.value);
    }
    return false;
  }
}
