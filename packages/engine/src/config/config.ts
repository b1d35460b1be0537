import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../domain/errors.js';
import { parseDurationMs } from '../domain/duration.js';
import { TASK_RUN_LIMIT_DEFAULTS, type TaskRunLimits } from '../domain/task-run-limits.js';
import { pilotagePaths } from './xdg-paths.js';
import { PASS_ENV_PATTERN } from '../plan/schema-defs.js';

/**
 * Which executor runs actions that name none. `auto`: kubernetes when the engine runs in a
 * cluster or a kubeconfig context is configured for it, else docker when a Docker API answers,
 * else local.
 */
export type ExecutorChoice = 'local' | 'docker' | 'kubernetes' | 'auto';

/** Access modes of the per-run workspace claim of the Kubernetes executor. */
export type KubernetesAccessMode = 'ReadWriteOnce' | 'ReadWriteMany';

/** When the docker executor pulls an image (components may set their own). */
export type DockerPullPolicy = 'always' | 'if-missing' | 'never';

/** The engine's frozen configuration. Built only by `loadConfig`; nothing else reads process.env. */
export interface Config {
  /** store: a SQLite file path, `:memory:`, or a postgres:// URL */
  readonly db: string;
  /** folder for the default database and run workspaces */
  readonly dataDir: string;
  /** folder holding one workspace folder per run */
  readonly workspaceRoot: string;
  readonly executor: ExecutorChoice;
  /** Docker Engine API endpoint (DOCKER_HOST form), if set */
  readonly dockerHost: string | undefined;
  /** TLS to a tcp Docker endpoint (`DOCKER_TLS_VERIFY` set to anything but 0, false or no) */
  readonly dockerTlsVerify: boolean;
  /** folder of ca.pem, cert.pem and key.pem for a TLS Docker endpoint */
  readonly dockerCertPath: string | undefined;
  /** XDG_RUNTIME_DIR: where `auto` looks for the rootless Podman socket (`podman/podman.sock`) */
  readonly runtimeDir: string | undefined;
  /** network of the containers: `host` (default) or a network name */
  readonly dockerNetwork: string;
  /** pull policy of the docker executor for components that set none */
  readonly dockerPullPolicy: DockerPullPolicy;
  /** image of components that name none (inline `run:` actions without `image:`) on docker */
  readonly dockerDefaultImage: string | undefined;
  /**
   * This engine's stable id, on the labels of what its executors create (recovery finds its own
   * containers by it). Default: derived from the host name and the store location, so one store
   * on one machine keeps its id across restarts; random for `:memory:`.
   */
  readonly engineId: string;
  /** URL at which containers and pods reach this engine; default: the loopback URL */
  readonly advertiseUrl: string | undefined;
  /** interface and port of the embedded callback server (`pilotage run`) */
  readonly callbackHost: string;
  readonly callbackPort: number;
  readonly killGraceMs: number;
  readonly stopGraceMs: number;
  /** most task attempts running at once across every replica sharing the store */
  readonly maxParallel: number;
  /** most runs this replica carries at once (runs only waiting for an approval do not count) */
  readonly maxActiveRuns: number;
  /** how often a replica renews its lease, ms */
  readonly heartbeatMs: number;
  /** how long a replica holds its runs without renewing its lease, ms (a dead one's runs move after it) */
  readonly leaseTtlMs: number;
  /** apply the store's pending migrations on start (false: refuse to start until `pilotage db migrate`) */
  readonly autoMigrate: boolean;
  /** ended runs older than this are deleted with everything of theirs, ms (0: kept for ever) */
  readonly retainRunsMs: number;
  /** log lines of runs ended longer ago than this are deleted, ms (0: kept as long as their run) */
  readonly retainLogsMs: number;
  /** delivered CDEvents older than this are deleted, ms (0: kept as long as their run) */
  readonly retainEventsMs: number;
  /** how often a replica runs the cleanup job (one replica at a time), ms (0: never) */
  readonly cleanupIntervalMs: number;
  /** how long a CDEvent delivery is retried after its first failure before it is a dead letter, ms */
  readonly eventsRetryWindowMs: number;
  /** the longest wait between two delivery attempts of one event, ms (the backoff's cap) */
  readonly eventsMaxBackoffMs: number;
  readonly keepWorkspace: boolean;
  /**
   * `serve` on a PostgreSQL store runs under SCHED_BATCH (Linux, with the native addon), and so do
   * its local components: replicas, PostgreSQL and components sharing a few cores switch less often
   */
  readonly batchScheduling: boolean;
  /**
   * how long the workspace of a run that failed, errored or was cancelled is kept after it
   * ended, so that `runs retry` starts from a copy of it, ms (0: removed as it ends)
   */
  readonly workspaceRetentionMs: number;
  readonly logLevel: string;
  /** where CDEvents are delivered: `stdout`, a JSONL file path or an http(s) URL (binary mode) */
  readonly eventSinks: readonly string[];
  /**
   * variables of the engine's own environment that every component inherits (names and `*`
   * globs), besides the executor's base and each workflow's `passEnv`; `PILOTAGE_*` never pass
   */
  readonly passEnv: readonly string[];
  /** secrets every run may read (`PILOTAGE_SECRET_<NAME>`), masked everywhere */
  readonly secrets: Readonly<Record<string, string>>;
  /** `pilotage serve`: interface and TCP port of the API server (which also serves callbacks) */
  readonly host: string;
  readonly port: number;
  /**
   * key that encrypts the secret store (any string; a 32-byte key is derived from it). When unset,
   * `serve` creates a random one in `<dataDir>/encryption.key` (mode 0600) on first start.
   */
  readonly encryptionKey: string | undefined;
  /** serve `/metrics` without a token (default true; false requires a `read` token) */
  readonly metricsPublic: boolean;
  /**
   * how long the body of an accepted GitHub or GitLab webhook is remembered, ms: the same body
   * again under another delivery id is refused as a replay (0: no such check)
   */
  readonly webhookReplayWindowMs: number;
  /** on SIGTERM, how long running runs may go on before they are cancelled, ms (serve.ts) */
  readonly shutdownGraceMs: number;
  /** CLI as a client: the server's base URL and the API token to send */
  readonly server: string | undefined;
  readonly token: string | undefined;
  /**
   * Base URL of an OTLP/HTTP collector (`http://collector:4318`): spans of every run are POSTed
   * to `<base>/v1/traces`. Unset: nothing is traced (and no OpenTelemetry module is loaded).
   * Read from PILOTAGE_OTEL_ENDPOINT, else the standard OTEL_EXPORTER_OTLP_ENDPOINT;
   * OTEL_SDK_DISABLED=true turns tracing off whatever is set.
   */
  readonly otelEndpoint: string | undefined;
  /** `service.name` of the spans (OTEL_SERVICE_NAME, default `pilotage`) */
  readonly otelServiceName: string;
  /** folder of the action cache's saved workspace paths (share it between replicas) */
  readonly cacheDir: string;
  /** most bytes of files the action cache keeps; least recently used entries go first */
  readonly cacheMaxBytes: number;
  /** action cache entries not used for this long are removed, ms */
  readonly cacheMaxAgeMs: number;
  /**
   * per task run caps (domain/task-run-limits.ts): TASK_STATUS reports stored, their bytes, and
   * log bytes stored; past one, what comes is dropped and counted, with one notice in the log
   * (0: no cap)
   */
  readonly taskMaxStatuses: number;
  readonly taskMaxStatusBytes: number;
  readonly taskMaxLogBytes: number;
  /** kubeconfig file(s) of the Kubernetes executor (KUBECONFIG; `:`-separated, the first that exists; default ~/.kube/config) */
  readonly kubeconfig: string;
  /**
   * the kubeconfig context the engine uses; setting it is what makes `executor: auto` choose
   * kubernetes outside a cluster (default: the file's current context)
   */
  readonly kubernetesContext: string | undefined;
  /** set inside a pod (KUBERNETES_SERVICE_HOST): the engine then uses its ServiceAccount (in-cluster config) */
  readonly kubernetesServiceHost: string | undefined;
  /** namespace of the pods and claims (default: the context's, in-cluster the engine's own, else `default`) */
  readonly kubernetesNamespace: string | undefined;
  /** StorageClass of the per-run workspace claims (default: the cluster's default class) */
  readonly kubernetesStorageClass: string | undefined;
  /** access mode of the workspace claims (default ReadWriteOnce; ReadWriteMany lets a run's pods spread over nodes) */
  readonly kubernetesAccessMode: KubernetesAccessMode;
  /** size requested by each workspace claim (default 1Gi) */
  readonly kubernetesWorkspaceSize: string;
  /** ServiceAccount of the pods of components that name none (default: the namespace's `default`) */
  readonly kubernetesServiceAccount: string | undefined;
  /** image of components that name none on Kubernetes (default: the docker executor's default image) */
  readonly kubernetesDefaultImage: string | undefined;
  /** image of the pods that copy files between claims (needs sh and cp; default: the default image) */
  readonly kubernetesHelperImage: string | undefined;
  /**
   * the claim that holds the engine's cache folder (`cacheDir` is where the engine mounts it):
   * copy pods restore and save an action's `cache.paths` through it (absent: such actions are not
   * cached on Kubernetes)
   */
  readonly kubernetesCacheClaim: string | undefined;
  /**
   * the id that labels what the kubernetes executor creates (pods, claims, ConfigMaps), by which
   * an engine finds them again (default: the engine id). Replicas of one store set the same
   * value, so that a replica re-attaches the pods of a run another one let go or left
   */
  readonly kubernetesOwner: string | undefined;
  /** client-side budget of API requests: sustained requests per second, and the burst above it */
  readonly kubernetesQps: number;
  readonly kubernetesBurst: number;
  /** how long an image may fail to pull (ErrImagePull, ImagePullBackOff) before the task run is errored, ms */
  readonly kubernetesPullGraceMs: number;
}

/** Keys settable by flags (camelCase) and their env var. One env var per key. */
export const CONFIG_ENV: Readonly<Record<Exclude<keyof Config, 'secrets'>, string>> = {
  db: 'PILOTAGE_DB',
  dataDir: 'PILOTAGE_DATA_DIR',
  workspaceRoot: 'PILOTAGE_WORKSPACE_ROOT',
  executor: 'PILOTAGE_EXECUTOR',
  dockerHost: 'DOCKER_HOST',
  dockerTlsVerify: 'DOCKER_TLS_VERIFY',
  dockerCertPath: 'DOCKER_CERT_PATH',
  runtimeDir: 'XDG_RUNTIME_DIR',
  dockerNetwork: 'PILOTAGE_DOCKER_NETWORK',
  dockerPullPolicy: 'PILOTAGE_DOCKER_PULL_POLICY',
  dockerDefaultImage: 'PILOTAGE_DOCKER_DEFAULT_IMAGE',
  engineId: 'PILOTAGE_ENGINE_ID',
  advertiseUrl: 'PILOTAGE_ADVERTISE_URL',
  callbackHost: 'PILOTAGE_CALLBACK_HOST',
  callbackPort: 'PILOTAGE_CALLBACK_PORT',
  killGraceMs: 'PILOTAGE_KILL_GRACE',
  stopGraceMs: 'PILOTAGE_STOP_GRACE',
  maxParallel: 'PILOTAGE_MAX_PARALLEL',
  maxActiveRuns: 'PILOTAGE_MAX_ACTIVE_RUNS',
  heartbeatMs: 'PILOTAGE_HEARTBEAT',
  leaseTtlMs: 'PILOTAGE_LEASE_TTL',
  autoMigrate: 'PILOTAGE_AUTO_MIGRATE',
  retainRunsMs: 'PILOTAGE_RETAIN_RUNS',
  retainLogsMs: 'PILOTAGE_RETAIN_LOGS',
  retainEventsMs: 'PILOTAGE_RETAIN_EVENTS',
  cleanupIntervalMs: 'PILOTAGE_CLEANUP_INTERVAL',
  eventsRetryWindowMs: 'PILOTAGE_EVENTS_RETRY_WINDOW',
  eventsMaxBackoffMs: 'PILOTAGE_EVENTS_MAX_BACKOFF',
  keepWorkspace: 'PILOTAGE_KEEP_WORKSPACE',
  batchScheduling: 'PILOTAGE_BATCH_SCHEDULING',
  workspaceRetentionMs: 'PILOTAGE_WORKSPACE_RETENTION',
  logLevel: 'PILOTAGE_LOG_LEVEL',
  eventSinks: 'PILOTAGE_EVENT_SINKS',
  passEnv: 'PILOTAGE_PASS_ENV',
  host: 'PILOTAGE_HOST',
  port: 'PILOTAGE_PORT',
  encryptionKey: 'PILOTAGE_ENCRYPTION_KEY',
  metricsPublic: 'PILOTAGE_METRICS_PUBLIC',
  shutdownGraceMs: 'PILOTAGE_SHUTDOWN_GRACE',
  webhookReplayWindowMs: 'PILOTAGE_WEBHOOK_REPLAY_WINDOW',
  server: 'PILOTAGE_SERVER',
  token: 'PILOTAGE_TOKEN',
  otelEndpoint: 'PILOTAGE_OTEL_ENDPOINT',
  otelServiceName: 'OTEL_SERVICE_NAME',
  cacheDir: 'PILOTAGE_CACHE_DIR',
  cacheMaxBytes: 'PILOTAGE_CACHE_MAX_BYTES',
  cacheMaxAgeMs: 'PILOTAGE_CACHE_MAX_AGE',
  taskMaxStatuses: 'PILOTAGE_TASK_MAX_STATUSES',
  taskMaxStatusBytes: 'PILOTAGE_TASK_MAX_STATUS_BYTES',
  taskMaxLogBytes: 'PILOTAGE_TASK_MAX_LOG_BYTES',
  kubeconfig: 'KUBECONFIG',
  kubernetesContext: 'PILOTAGE_KUBERNETES_CONTEXT',
  kubernetesServiceHost: 'KUBERNETES_SERVICE_HOST',
  kubernetesNamespace: 'PILOTAGE_KUBERNETES_NAMESPACE',
  kubernetesStorageClass: 'PILOTAGE_KUBERNETES_STORAGE_CLASS',
  kubernetesAccessMode: 'PILOTAGE_KUBERNETES_ACCESS_MODE',
  kubernetesWorkspaceSize: 'PILOTAGE_KUBERNETES_WORKSPACE_SIZE',
  kubernetesServiceAccount: 'PILOTAGE_KUBERNETES_SERVICE_ACCOUNT',
  kubernetesDefaultImage: 'PILOTAGE_KUBERNETES_DEFAULT_IMAGE',
  kubernetesHelperImage: 'PILOTAGE_KUBERNETES_HELPER_IMAGE',
  kubernetesCacheClaim: 'PILOTAGE_KUBERNETES_CACHE_CLAIM',
  kubernetesOwner: 'PILOTAGE_KUBERNETES_OWNER',
  kubernetesQps: 'PILOTAGE_KUBERNETES_QPS',
  kubernetesBurst: 'PILOTAGE_KUBERNETES_BURST',
  kubernetesPullGraceMs: 'PILOTAGE_KUBERNETES_PULL_GRACE',
};

/** Defaults, units in the names. */
export const CONFIG_DEFAULTS = {
  executor: 'local' as ExecutorChoice,
  dockerNetwork: 'host',
  dockerPullPolicy: 'if-missing' as DockerPullPolicy,
  callbackHost: '127.0.0.1',
  callbackPort: 0,
  killGraceMs: 5000,
  stopGraceMs: 5000,
  maxParallel: 64,
  maxActiveRuns: 128,
  heartbeatMs: 5000,
  leaseTtlMs: 15_000,
  autoMigrate: true,
  retainRunsMs: 90 * 86_400_000,
  retainLogsMs: 30 * 86_400_000,
  retainEventsMs: 7 * 86_400_000,
  cleanupIntervalMs: 3_600_000,
  eventsRetryWindowMs: 86_400_000,
  eventsMaxBackoffMs: 60_000,
  keepWorkspace: false,
  batchScheduling: true,
  workspaceRetentionMs: 86_400_000,
  logLevel: 'info',
  host: '127.0.0.1',
  port: 8080,
  metricsPublic: true,
  shutdownGraceMs: 30_000,
  webhookReplayWindowMs: 24 * 60 * 60 * 1000,
  otelServiceName: 'pilotage',
  cacheMaxBytes: 5 * 1024 ** 3,
  cacheMaxAgeMs: 7 * 24 * 60 * 60 * 1000,
  taskMaxStatuses: TASK_RUN_LIMIT_DEFAULTS.statuses,
  taskMaxStatusBytes: TASK_RUN_LIMIT_DEFAULTS.statusBytes,
  taskMaxLogBytes: TASK_RUN_LIMIT_DEFAULTS.logBytes,
  kubernetesAccessMode: 'ReadWriteOnce' as KubernetesAccessMode,
  kubernetesWorkspaceSize: '1Gi',
  kubernetesQps: 20,
  kubernetesBurst: 40,
  kubernetesPullGraceMs: 60_000,
};

/** Values by config key, as flags or a config file give them. */
export type Overrides = Partial<
  Record<keyof typeof CONFIG_ENV, string | number | boolean | readonly string[] | undefined>
>;

/**
 * Build the configuration: flags win over env vars, env vars over the config file's values
 * (`file`, see config-file.ts), those over defaults. `home` is the user's home folder. Unknown
 * keys and bad values throw ConfigError naming the key.
 */
export function loadConfig(input: {
  env: NodeJS.ProcessEnv;
  home: string;
  flags?: Overrides;
  file?: Overrides;
}): Config {
  const { env, home } = input;
  const flags = input.flags ?? {};
  const file = input.file ?? {};
  for (const key of [...Object.keys(flags), ...Object.keys(file)]) {
    if (!(key in CONFIG_ENV)) throw new ConfigError(`unknown configuration key "${key}"`);
  }
  const pick = (key: keyof typeof CONFIG_ENV): string | undefined => {
    const flag = flags[key];
    if (Array.isArray(flag)) return flag.length > 0 ? flag.join(',') : undefined;
    if (flag !== undefined && flag !== '') return String(flag);
    const fromEnv = env[CONFIG_ENV[key]];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const fromFile = file[key];
    if (Array.isArray(fromFile)) return fromFile.length > 0 ? fromFile.join(',') : undefined;
    return fromFile === undefined || fromFile === '' ? undefined : String(fromFile);
  };
  const dataDir = pick('dataDir') ?? pilotagePaths(env, home).dataDir;
  const executor = pick('executor') ?? CONFIG_DEFAULTS.executor;
  if (!['local', 'docker', 'kubernetes', 'auto'].includes(executor)) {
    throw new ConfigError(
      `executor (${CONFIG_ENV.executor}) must be local, docker, kubernetes or auto, got "${executor}"`,
    );
  }
  const pullPolicy = pick('dockerPullPolicy') ?? CONFIG_DEFAULTS.dockerPullPolicy;
  if (!['always', 'if-missing', 'never'].includes(pullPolicy)) {
    throw new ConfigError(
      `dockerPullPolicy (${CONFIG_ENV.dockerPullPolicy}) must be always, if-missing or never, got "${pullPolicy}"`,
    );
  }
  const engineId = labelValue('engineId', pick('engineId'));
  const kubernetesOwner = labelValue('kubernetesOwner', pick('kubernetesOwner'));
  const db = pick('db') ?? join(dataDir, 'pilotage.db');
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('PILOTAGE_SECRET_') && value !== undefined) secrets[name.slice(16)] = value;
  }
  return Object.freeze({
    db,
    dataDir,
    workspaceRoot: pick('workspaceRoot') ?? join(dataDir, 'workspaces'),
    executor: executor as ExecutorChoice,
    dockerHost: pick('dockerHost'),
    // Docker's own rule: any value turns TLS on; we also read 0, false and no as off.
    dockerTlsVerify: !['', '0', 'false', 'no'].includes(pick('dockerTlsVerify') ?? ''),
    dockerCertPath: pick('dockerCertPath'),
    runtimeDir: pick('runtimeDir'),
    dockerNetwork: pick('dockerNetwork') ?? CONFIG_DEFAULTS.dockerNetwork,
    dockerPullPolicy: pullPolicy as DockerPullPolicy,
    dockerDefaultImage: pick('dockerDefaultImage'),
    engineId: engineId ?? defaultEngineId(db),
    advertiseUrl: pick('advertiseUrl'),
    callbackHost: pick('callbackHost') ?? CONFIG_DEFAULTS.callbackHost,
    callbackPort: integer('callbackPort', pick('callbackPort'), CONFIG_DEFAULTS.callbackPort, 0),
    killGraceMs: duration('killGraceMs', pick('killGraceMs'), CONFIG_DEFAULTS.killGraceMs),
    stopGraceMs: duration('stopGraceMs', pick('stopGraceMs'), CONFIG_DEFAULTS.stopGraceMs),
    maxParallel: integer('maxParallel', pick('maxParallel'), CONFIG_DEFAULTS.maxParallel, 1),
    maxActiveRuns: integer('maxActiveRuns', pick('maxActiveRuns'), CONFIG_DEFAULTS.maxActiveRuns, 1),
    ...leaseTimes(pick('heartbeatMs'), pick('leaseTtlMs')),
    autoMigrate: boolean('autoMigrate', pick('autoMigrate'), CONFIG_DEFAULTS.autoMigrate),
    retainRunsMs: duration('retainRunsMs', pick('retainRunsMs'), CONFIG_DEFAULTS.retainRunsMs),
    retainLogsMs: duration('retainLogsMs', pick('retainLogsMs'), CONFIG_DEFAULTS.retainLogsMs),
    retainEventsMs: duration('retainEventsMs', pick('retainEventsMs'), CONFIG_DEFAULTS.retainEventsMs),
    cleanupIntervalMs: duration('cleanupIntervalMs', pick('cleanupIntervalMs'), CONFIG_DEFAULTS.cleanupIntervalMs),
    eventsRetryWindowMs: duration(
      'eventsRetryWindowMs',
      pick('eventsRetryWindowMs'),
      CONFIG_DEFAULTS.eventsRetryWindowMs,
    ),
    eventsMaxBackoffMs: duration('eventsMaxBackoffMs', pick('eventsMaxBackoffMs'), CONFIG_DEFAULTS.eventsMaxBackoffMs),
    keepWorkspace: boolean('keepWorkspace', pick('keepWorkspace'), CONFIG_DEFAULTS.keepWorkspace),
    batchScheduling: boolean('batchScheduling', pick('batchScheduling'), CONFIG_DEFAULTS.batchScheduling),
    workspaceRetentionMs: duration(
      'workspaceRetentionMs',
      pick('workspaceRetentionMs'),
      CONFIG_DEFAULTS.workspaceRetentionMs,
    ),
    logLevel: pick('logLevel') ?? CONFIG_DEFAULTS.logLevel,
    eventSinks: list(pick('eventSinks')),
    passEnv: passEnvList(pick('passEnv')),
    secrets: Object.freeze(secrets),
    host: pick('host') ?? CONFIG_DEFAULTS.host,
    port: integer('port', pick('port'), CONFIG_DEFAULTS.port, 0),
    encryptionKey: pick('encryptionKey'),
    metricsPublic: boolean('metricsPublic', pick('metricsPublic'), CONFIG_DEFAULTS.metricsPublic),
    shutdownGraceMs: duration('shutdownGraceMs', pick('shutdownGraceMs'), CONFIG_DEFAULTS.shutdownGraceMs),
    webhookReplayWindowMs: duration(
      'webhookReplayWindowMs',
      pick('webhookReplayWindowMs'),
      CONFIG_DEFAULTS.webhookReplayWindowMs,
    ),
    server: pick('server')?.replace(/\/+$/, ''),
    token: pick('token'),
    otelEndpoint: otelEndpoint(env, pick('otelEndpoint')),
    otelServiceName: pick('otelServiceName') ?? CONFIG_DEFAULTS.otelServiceName,
    cacheDir: pick('cacheDir') ?? join(dataDir, 'cache'),
    cacheMaxBytes: bytes('cacheMaxBytes', pick('cacheMaxBytes'), CONFIG_DEFAULTS.cacheMaxBytes),
    cacheMaxAgeMs: duration('cacheMaxAgeMs', pick('cacheMaxAgeMs'), CONFIG_DEFAULTS.cacheMaxAgeMs),
    taskMaxStatuses: integer('taskMaxStatuses', pick('taskMaxStatuses'), CONFIG_DEFAULTS.taskMaxStatuses, 0),
    taskMaxStatusBytes: bytes('taskMaxStatusBytes', pick('taskMaxStatusBytes'), CONFIG_DEFAULTS.taskMaxStatusBytes),
    taskMaxLogBytes: bytes('taskMaxLogBytes', pick('taskMaxLogBytes'), CONFIG_DEFAULTS.taskMaxLogBytes),
    kubeconfig: pick('kubeconfig') ?? join(home, '.kube', 'config'),
    kubernetesContext: pick('kubernetesContext'),
    kubernetesServiceHost: pick('kubernetesServiceHost'),
    kubernetesNamespace: kubernetesName('kubernetesNamespace', pick('kubernetesNamespace')),
    kubernetesStorageClass: pick('kubernetesStorageClass'),
    kubernetesAccessMode: oneOf(
      'kubernetesAccessMode',
      pick('kubernetesAccessMode') ?? CONFIG_DEFAULTS.kubernetesAccessMode,
      ['ReadWriteOnce', 'ReadWriteMany'] as const,
    ),
    kubernetesWorkspaceSize: quantity(
      'kubernetesWorkspaceSize',
      pick('kubernetesWorkspaceSize') ?? CONFIG_DEFAULTS.kubernetesWorkspaceSize,
    ),
    kubernetesServiceAccount: kubernetesName('kubernetesServiceAccount', pick('kubernetesServiceAccount')),
    kubernetesDefaultImage: pick('kubernetesDefaultImage') ?? pick('dockerDefaultImage'),
    kubernetesHelperImage: pick('kubernetesHelperImage'),
    kubernetesCacheClaim: kubernetesName('kubernetesCacheClaim', pick('kubernetesCacheClaim')),
    kubernetesOwner,
    kubernetesQps: integer('kubernetesQps', pick('kubernetesQps'), CONFIG_DEFAULTS.kubernetesQps, 1),
    kubernetesBurst: integer('kubernetesBurst', pick('kubernetesBurst'), CONFIG_DEFAULTS.kubernetesBurst, 1),
    kubernetesPullGraceMs: duration(
      'kubernetesPullGraceMs',
      pick('kubernetesPullGraceMs'),
      CONFIG_DEFAULTS.kubernetesPullGraceMs,
    ),
  });
}

/** An id that is also a label value: 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit. */
function labelValue(key: keyof typeof CONFIG_ENV, raw: string | undefined): string | undefined {
  if (raw === undefined || /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(raw)) return raw;
  throw new ConfigError(
    `${key} (${CONFIG_ENV[key]}) must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "${raw}"`,
  );
}

/** A Kubernetes object name (namespace, ServiceAccount): a DNS label. */
function kubernetesName(key: keyof typeof CONFIG_ENV, raw: string | undefined): string | undefined {
  if (raw === undefined || /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(raw)) return raw;
  throw new ConfigError(
    `${key} (${CONFIG_ENV[key]}) must be a Kubernetes name: lowercase letters, digits and '-', at most 63, got "${raw}"`,
  );
}

function oneOf<T extends string>(key: keyof typeof CONFIG_ENV, raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`${key} (${CONFIG_ENV[key]}) must be ${allowed.join(' or ')}, got "${raw}"`);
}

/** A storage quantity such as 1Gi or 500Mi. */
function quantity(key: keyof typeof CONFIG_ENV, raw: string): string {
  if (/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(raw)) return raw;
  throw new ConfigError(`${key} (${CONFIG_ENV[key]}) must be a quantity such as 1Gi or 500Mi, got "${raw}"`);
}

/**
 * `pilotage-<12 hex>` from the host name and the store location: stable for one store on one
 * machine (a restarted engine finds its containers), distinct across machines sharing a
 * PostgreSQL store. Random for `:memory:`, whose runs cannot outlive the process.
 */
function defaultEngineId(db: string): string {
  if (db === ':memory:') return `pilotage-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const where = /^[a-z][a-z0-9+.-]*:\/\//i.test(db) ? db.replace(/\/\/[^@/]*@/, '//') : resolve(db);
  const digest = createHash('sha256').update(`${hostname()}\0${where}`).digest('hex');
  return `pilotage-${digest.slice(0, 12)}`;
}

/** The heartbeat and lease, checked together: a lease must outlast at least two heartbeats. */
function leaseTimes(
  heartbeat: string | undefined,
  lease: string | undefined,
): { heartbeatMs: number; leaseTtlMs: number } {
  const heartbeatMs = duration('heartbeatMs', heartbeat, CONFIG_DEFAULTS.heartbeatMs);
  const leaseTtlMs = duration('leaseTtlMs', lease, CONFIG_DEFAULTS.leaseTtlMs);
  if (heartbeatMs < 1 || leaseTtlMs < 2 * heartbeatMs) {
    throw new ConfigError(
      `leaseTtlMs (${CONFIG_ENV.leaseTtlMs}, ${leaseTtlMs}ms) must be at least twice heartbeatMs (${CONFIG_ENV.heartbeatMs}, ${heartbeatMs}ms), and the heartbeat at least 1ms: a replica must get two tries to renew before its runs move on`,
    );
  }
  return { heartbeatMs, leaseTtlMs };
}

/** A comma-separated list (flags and files give arrays, joined by `pick`), trimmed, frozen. */
function list(raw: string | undefined): readonly string[] {
  return Object.freeze(
    (raw ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );
}

function passEnvList(raw: string | undefined): readonly string[] {
  const names = list(raw);
  const pattern = new RegExp(PASS_ENV_PATTERN);
  const bad = names.find((name) => !pattern.test(name));
  if (bad !== undefined) {
    throw new ConfigError(
      `passEnv (${CONFIG_ENV.passEnv}) must list variable names or globs such as AWS_* (letters, digits, _ and *), got "${bad}"`,
    );
  }
  return names;
}

/**
 * The collector's base URL: Pilotage's own setting, else the standard variable; none when the
 * OpenTelemetry SDK is disabled by its standard switch. Must be an http(s) URL.
 */
function otelEndpoint(env: NodeJS.ProcessEnv, own: string | undefined): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const standard = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = own ?? (standard === undefined || standard === '' ? undefined : standard);
  if (url === undefined) return undefined;
  if (!/^https?:\/\/[^/]/i.test(url)) {
    throw new ConfigError(
      `otelEndpoint (${CONFIG_ENV.otelEndpoint} or OTEL_EXPORTER_OTLP_ENDPOINT) must be an http(s) URL such as http://localhost:4318, got "${url}"`,
    );
  }
  return url.replace(/\/+$/, '');
}

function integer(key: keyof typeof CONFIG_ENV, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${key} (${CONFIG_ENV[key]}) must be a whole number ≥ ${min}, got "${raw}"`);
  }
  return value;
}

function duration(key: keyof typeof CONFIG_ENV, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  try {
    return /^\d+$/.test(raw) ? Number(raw) : parseDurationMs(raw);
  } catch {
    throw new ConfigError(
      `${key} (${CONFIG_ENV[key]}) must be a duration such as 5s or 500ms (a bare number is ms), got "${raw}"`,
    );
  }
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };

/** A size: a number of bytes, or with a unit (`500MB`, `5GiB`, `512Ki`). */
function bytes(key: keyof typeof CONFIG_ENV, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?)?b?$/i.exec(raw.trim());
  const unit = BYTE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined) {
    throw new ConfigError(`${key} (${CONFIG_ENV[key]}) must be a size such as 5GiB, 500MB or 1048576, got "${raw}"`);
  }
  return Math.floor(Number(match[1]) * unit);
}

function boolean(key: keyof typeof CONFIG_ENV, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${key} (${CONFIG_ENV[key]}) must be true or false, got "${raw}"`);
}

/** The per task run caps a store opened with `config` enforces (`openStore({limits})`). */
export function taskRunLimitsOf(config: Config): TaskRunLimits {
  return {
    statuses: config.taskMaxStatuses,
    statusBytes: config.taskMaxStatusBytes,
    logBytes: config.taskMaxLogBytes,
  };
}
