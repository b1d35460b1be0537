import type { Config } from '../config/config.js';
import { messageOf } from '../domain/errors.js';
import type { RunEventBuilder } from '../engine/ports.js';
import type { RunRecord, Store } from '../store/types.js';

/** How `endAbandonedCliRuns` builds CDEvents and removes leftovers, when the caller has an engine. */
export interface AbandonedRunsParts {
  /** builds the ended runs' CDEvents (default: one whose source is the advertised URL, else the loopback host) */
  readonly events?: RunEventBuilder;
  /** stops and removes what executors still hold for ended runs (default: through the configured executors) */
  readonly reclaim?: () => Promise<void>;
}

const warn = (message: string): void => void process.stderr.write(`warning: ${message}\n`);

/**
 * End the runs that `pilotage run` processes on this store left unfinished when they died
 * (`endAbandonedRuns`), saying so on stderr, then stop their local processes and remove their
 * containers (`reclaimLeftovers`). Cheap when there is nothing to end: one query, nothing more loaded.
 */
export async function endAbandonedCliRuns(
  store: Store,
  config: Config,
  parts: AbandonedRunsParts = {},
): Promise<RunRecord[]> {
  // one query; the engine's modules load only when a pilotage run replica holds runs (runs list
  // and show stay light: startup.test.ts)
  const replicas = await store.replicas.list();
  if (!replicas.some((replica) => replica.url === null && replica.runs > 0)) return [];
  const [{ endAbandonedRuns }, { replicaOptions }] = await Promise.all([
    import('../engine/abandoned-runs.js'),
    import('../cluster/replica-wiring.js'),
  ]);
  const events =
    parts.events ??
    (await import('../events/run-event-builder.js')).createRunEventBuilder(config.advertiseUrl ?? 'http://127.0.0.1');
  const ended = await endAbandonedRuns({
    store,
    events,
    clock: Date.now,
    workspaceRetentionMs: config.workspaceRetentionMs,
    isGone: replicaOptions(config, null).isGone,
    warn,
  });
  if (ended.length === 0) return ended;
  for (const run of ended) {
    process.stderr.write(`ended run ${run.id} (${run.workflow} #${run.number}) as errored: ${run.reason ?? ''}\n`);
  }
  try {
    await (parts.reclaim ?? (() => reclaimWithConfiguredExecutors(store, config)))();
  } catch (error) {
    warn(`could not stop what those runs left running: ${messageOf(error)}`);
  }
  return ended;
}

/** `reclaimLeftovers` through the executors `config` asks for, built for the purpose and closed after. */
async function reclaimWithConfiguredExecutors(store: Store, config: Config): Promise<void> {
  const [{ configuredExecutors }, { createExecutorSet }, { reclaimLeftovers }, { leaseAwareProcessAlive }] =
    await Promise.all([
      import('../executor/configured-executors.js'),
      import('../executor/executor-set.js'),
      import('../engine/reattach.js'),
      import('../cluster/replica-wiring.js'),
    ]);
  const { executors, defaultName } = await configuredExecutors(config, {
    info: () => undefined,
    engineProcessAlive: leaseAwareProcessAlive(() => store.replicas),
  });
  try {
    // an ended run's workspace stays: the cleanup removes it when it expires
    await reclaimLeftovers({ store, executors: createExecutorSet(executors, defaultName), warn, keepWorkspace: true });
  } finally {
    await Promise.all(executors.map((e) => e.close().catch(() => undefined)));
  }
}
