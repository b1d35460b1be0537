import { mkdir } from 'node:fs/promises';
import { leaseAwareProcessAlive, replicaOptions } from './cluster/replica-wiring.js';
import { createCacheFolder } from './cache/cache-folder.js';
import { taskRunLimitsOf, type Config } from './config/config.js';
import { isTaskEnded } from './domain/states.js';
import { Engine } from './engine/engine.js';
import type { InputSeal, RunEventBuilder, Tracing } from './engine/ports.js';
import type { Executor } from './executor/executor.js';
import { createExecutorSet } from './executor/executor-set.js';
import { configuredExecutors } from './executor/configured-executors.js';
import { CallbackRegistry } from './protocol/registry.js';
import { postEventData } from './protocol/endpoint-push.js';
import { startCallbackServer } from './protocol/server.js';
import { openStore } from './store/open-store.js';
import { deliverySettings } from './events/delivery-backoff.js';
import type { DeliveryWorker } from './events/delivery-worker.js';
import { createRunEventBuilder } from './events/run-event-builder.js';
import type { Sink } from './events/sinks/sink.js';
import { cipherInputSeal } from './service/input-seal.js';
import { createSecretCipher } from './service/secret-cipher.js';
import type { Store } from './store/types.js';
import { loadTracing, type LoadedTracing } from './tracing/load-tracing.js';

/** An assembled engine with everything it owns. `close()` releases it all, in order. */
export interface Runtime {
  readonly config: Config;
  readonly store: Store;
  readonly engine: Engine;
  readonly registry: CallbackRegistry;
  /** the callback server's URL */
  readonly callbackUrl: string;
  /** the name of the executor used by default, after `auto` was resolved */
  readonly executorName: string;
  /** builds the CDEvents the engine writes (for callbacks applied on behalf of another replica) */
  readonly events: RunEventBuilder;
  /** wakes the delivery worker after outbox rows were written elsewhere than by the engine */
  eventsWritten(): void;
  /**
   * Deliver pending CDEvents to the sinks for at most `timeoutMs`; resolves with how many are
   * still pending (0 without sinks).
   */
  drainEvents(timeoutMs: number): Promise<number>;
  close(options?: { cancel?: boolean }): Promise<void>;
}

/** Extra parts a caller may plug in (tests, the CLI's event sinks). */
export interface RuntimeOptions {
  /** replaces the CDEvents builder (tests) */
  readonly events?: RunEventBuilder;
  /** sinks besides the configured `eventSinks` */
  readonly sinks?: readonly Sink[];
  readonly onEventsWritten?: () => void;
  /** run-independent secrets over the configured ones */
  readonly secrets?: Readonly<Record<string, string>>;
  /**
   * seals the inputs of runs that hold a secret (engine.ts `inputsOf`); default: one over
   * `config.encryptionKey` when it is set (`pilotage serve` passes the one of its secret store)
   */
  readonly inputSeal?: InputSeal;
  /** replaces the tracing the config asks for (a bench's counting tracer) */
  readonly tracing?: Tracing;
  /** extra executors (a test's fake) */
  readonly executors?: readonly Executor[];
  /** the local executor's `spawnerAfter` (bench/spawner.mjs compares Infinity, never, with the default) */
  readonly localSpawnerAfter?: number;
  /** the local executor's `native`: false starts processes without the native addon (bench/spawner.mjs) */
  readonly localNative?: boolean;
  readonly warn?: (message: string) => void;
  /**
   * Component callbacks are served by the caller at this base URL (`pilotage serve` mounts them
   * on its API port), so no callback server of its own is started. Default: one on
   * `callbackHost:callbackPort`.
   */
  readonly callbackServedAt?: string;
  /**
   * the claimer's backstop poll, ms (default CLAIM_POLL_MS): a test sets it long to show that a
   * notification, not the poll, wakes a run waiting for a group
   */
  readonly claimPollMs?: number;
}

/**
 * The only wiring of concrete parts: store, executors, callback server and engine, from a frozen
 * config. Used by `pilotage run`, `pilotage serve` and the end-to-end tests.
 */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  await mkdir(config.workspaceRoot, { recursive: true });
  const store = await openStore({
    url: config.db,
    migrate: config.autoMigrate ? 'apply' : 'check',
    limits: taskRunLimitsOf(config),
  });
  const registry = new CallbackRegistry({
    endedState: async (tokenHash) => {
      const task = await store.taskRuns.getByTokenHash(tokenHash);
      return task && isTaskEnded(task.state) ? task.state : undefined;
    },
  });
  let callback: { url: string; close(): Promise<void> } | undefined;
  let delivery: DeliveryWorker | undefined;
  let tracing: LoadedTracing | undefined;
  const executors: Executor[] = [];
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  try {
    tracing =
      options.tracing === undefined
        ? await loadTracing(config, warn)
        : { tracing: options.tracing, close: () => Promise.resolve() };
    callback =
      options.callbackServedAt === undefined
        ? await startCallbackServer({ host: config.callbackHost, port: config.callbackPort, registry })
        : { url: options.callbackServedAt, close: () => Promise.resolve() };
    // the sinks' modules (the CloudEvents SDK for HTTP) only for a run that has sinks
    const configuredSinks =
      config.eventSinks.length === 0
        ? []
        : await import('./events/sinks/sink-from-target.js').then(({ sinkFromTarget }) =>
            config.eventSinks.map((target) => sinkFromTarget(target)),
          );
    const sinks = [...configuredSinks, ...(options.sinks ?? [])];
    if (sinks.length > 0) {
      const [{ startDeliveryWorker }, { localLeaseIdentity }, { circuitMessage }] = await Promise.all([
        import('./events/delivery-worker.js'),
        import('./events/sink-lease.js'),
        import('./events/sink-circuit.js'),
      ]);
      const lease = { store: store.sinkLeases, ...localLeaseIdentity(config.engineId) };
      delivery = startDeliveryWorker({
        deliveries: store.deliveries,
        sinks,
        lease,
        ...deliverySettings(config),
        onCircuit: (sink, state, error) => warn(circuitMessage(sink, state, error)),
      });
    }
    const configured = await configuredExecutors(config, {
      secrets: { ...config.secrets, ...options.secrets },
      info: warn,
      engineProcessAlive: leaseAwareProcessAlive(() => store.replicas),
      ...(options.localSpawnerAfter === undefined ? {} : { spawnerAfter: options.localSpawnerAfter }),
      ...(options.localNative === undefined ? {} : { native: options.localNative }),
    });
    executors.push(...configured.executors, ...(options.executors ?? []));
    const defaultName = configured.defaultName;
    const set = createExecutorSet(executors, defaultName);
    const events = options.events ?? createRunEventBuilder(config.advertiseUrl ?? callback.url);
    const eventsWritten = (): void => {
      delivery?.kick();
      options.onEventsWritten?.();
    };
    const engine = new Engine({
      store,
      executors: set,
      registry,
      callback: {
        loopbackUrl: callback.url,
        ...(config.advertiseUrl ? { advertisedUrl: config.advertiseUrl } : {}),
      },
      keepWorkspace: config.keepWorkspace,
      workspaceRetentionMs: config.workspaceRetentionMs,
      pushEventData: (url, data, signal) => postEventData(url, data, signal),
      events,
      tracing: tracing.tracing,
      onEventsWritten: eventsWritten,
      secrets: { ...config.secrets, ...options.secrets },
      ...inputSealOption(config, options),
      killGraceMs: config.killGraceMs,
      stopGraceMs: config.stopGraceMs,
      maxParallel: config.maxParallel,
      replica: {
        ...replicaOptions(config, options.callbackServedAt ?? null),
        ...(options.claimPollMs === undefined ? {} : { claimPollMs: options.claimPollMs }),
      },
      cache: {
        files: createCacheFolder(config.cacheDir),
        maxBytes: config.cacheMaxBytes,
        maxAgeMs: config.cacheMaxAgeMs,
      },
      ...(options.warn ? { warn: options.warn } : {}),
    });
    const server = callback;
    const traces = tracing;
    let closed = false;
    return {
      config,
      store,
      engine,
      registry,
      callbackUrl: server.url,
      executorName: defaultName,
      events,
      eventsWritten,
      async drainEvents(timeoutMs) {
        return delivery ? (await delivery.drain(timeoutMs)).pending : 0;
      },
      async close(closeOptions = {}) {
        if (closed) return;
        closed = true;
        await engine.close(closeOptions);
        await traces.close();
        await delivery?.drain(2000);
        await delivery?.stop();
        await server.close();
        await Promise.all(executors.map((e) => e.close()));
        await store.close();
      },
    };
  } catch (error) {
    await delivery?.stop();
    await tracing?.close();
    await callback?.close();
    await Promise.all(executors.map((e) => e.close().catch(() => undefined)));
    await store.close();
    throw error;
  }
}

function inputSealOption(config: Config, options: RuntimeOptions): { inputSeal?: InputSeal } {
  if (options.inputSeal !== undefined) return { inputSeal: options.inputSeal };
  if (config.encryptionKey === undefined || config.encryptionKey === '') return {};
  return { inputSeal: cipherInputSeal(createSecretCipher(config.encryptionKey)) };
}
