import type { Config } from '../../config/config.js';
import { ConfigError, ExecutorError } from '../../domain/errors.js';
import { registryAuthFromSecrets } from '../docker/registry-auth.js';
import type { Executor, WorkspaceCopy } from '../executor.js';
import type { KubernetesExecutor, KubernetesExecutorOptions } from './kubernetes-executor.js';

/**
 * `createKubernetesExecutor`, loaded at the first use: the Kubernetes client takes about half a
 * second to load, which an engine that never uses Kubernetes should not pay at start.
 */
export async function loadKubernetesExecutor(options: KubernetesExecutorOptions): Promise<KubernetesExecutor> {
  const { createKubernetesExecutor } = await import('./kubernetes-executor.js');
  return createKubernetesExecutor(options);
}

/**
 * Whether the engine is set up for Kubernetes, the rule of `executor: auto`: it runs in a pod
 * (KUBERNETES_SERVICE_HOST is set: its ServiceAccount is used), or a kubeconfig context is
 * configured for Pilotage (PILOTAGE_KUBERNETES_CONTEXT). A kubeconfig file alone is not enough:
 * a developer's current context is not an invitation to run workflows there.
 */
export function kubernetesConfigured(config: Config): boolean {
  return config.kubernetesServiceHost !== undefined || config.kubernetesContext !== undefined;
}

/** The Kubernetes executor's options from the configuration. */
export function kubernetesOptionsOf(
  config: Config,
  secrets: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>),
  warn: (message: string) => void,
): KubernetesExecutorOptions {
  return {
    access: {
      inCluster: config.kubernetesServiceHost !== undefined,
      kubeconfig: config.kubeconfig,
      ...(config.kubernetesContext === undefined ? {} : { context: config.kubernetesContext }),
    },
    ...(config.kubernetesNamespace === undefined ? {} : { namespace: config.kubernetesNamespace }),
    engineId: config.kubernetesOwner ?? config.engineId,
    qps: config.kubernetesQps,
    burst: config.kubernetesBurst,
    killGraceMs: config.killGraceMs,
    pullGraceMs: config.kubernetesPullGraceMs,
    ...(config.kubernetesDefaultImage === undefined ? {} : { defaultImage: config.kubernetesDefaultImage }),
    ...(config.kubernetesHelperImage === undefined ? {} : { helperImage: config.kubernetesHelperImage }),
    ...(config.kubernetesCacheClaim === undefined
      ? {}
      : { cacheClaim: { claim: config.kubernetesCacheClaim, hostDir: config.cacheDir } }),
    ...(config.kubernetesServiceAccount === undefined ? {} : { serviceAccountName: config.kubernetesServiceAccount }),
    storage: {
      accessMode: config.kubernetesAccessMode,
      size: config.kubernetesWorkspaceSize,
      // an emptyDir cannot be kept: with keepWorkspace every run gets a claim
      alwaysClaim: config.keepWorkspace,
      ...(config.kubernetesStorageClass === undefined ? {} : { storageClass: config.kubernetesStorageClass }),
    },
    registryAuth: registryAuthFromSecrets(secrets),
    engineEnv: process.env,
    passEnv: config.passEnv,
    ...(config.advertiseUrl === undefined ? {} : { callbackUrl: config.advertiseUrl }),
    warn,
  };
}

/**
 * The Kubernetes executor, for an engine whose default is another one (or to be connected
 * later): nothing is contacted until a workflow or action names `kubernetes`; then the cluster
 * is connected for good. While it cannot be (no kubeconfig, a bad context), `start` rejects with
 * the reason (the task run is errored) and it is tried again at the next use. `list` and
 * `listRuns` (recovery) connect only when the engine is set up for Kubernetes
 * (`kubernetesConfigured`) or already connected: an engine that never used it does not go
 * looking in a developer's cluster.
 */
export function createOnDemandKubernetesExecutor(options: KubernetesExecutorOptions, lookAtStart: boolean): Executor {
  let connected: KubernetesExecutor | undefined;
  let connecting: Promise<KubernetesExecutor> | undefined;
  let closed = false;

  function connect(): Promise<KubernetesExecutor> {
    if (connected !== undefined) return Promise.resolve(connected);
    connecting ??= loadKubernetesExecutor(options)
      .then(async (executor) => {
        if (closed) {
          await executor.close();
          throw new ExecutorError('the engine is closing');
        }
        connected = executor;
        return executor;
      })
      .finally(() => (connecting = undefined));
    return connecting;
  }
  const unavailable = (error: unknown): ExecutorError =>
    new ExecutorError(
      `the kubernetes executor is not available: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, retryable: !(error instanceof ConfigError) },
    );
  const using = async <T>(fn: (executor: KubernetesExecutor) => Promise<T>): Promise<T> => {
    let executor: KubernetesExecutor;
    try {
      executor = await connect();
    } catch (error) {
      throw unavailable(error);
    }
    return fn(executor);
  };
  const looking = (): boolean => connected !== undefined || lookAtStart;

  return {
    name: 'kubernetes',
    survivesEngine: true,
    start: (spec, onLog) => using((e) => e.start(spec, onLog)),
    destroy: (ref) => using((e) => e.destroy(ref)),
    list: async () => (looking() ? using((e) => e.list()) : []),
    attach: (ref, onLog, sinceMs) => using((e) => e.attach(ref, onLog, sinceMs)),
    prepareRun: (scope) => using((e) => e.prepareRun(scope)),
    releaseRun: async (runId, keep) => {
      if (looking()) await using((e) => e.releaseRun(runId, keep));
    },
    listRuns: async () => (looking() ? using((e) => e.listRuns()) : []),
    // copies need the cache claim; without one, actions with cache.paths are not cached here
    ...(options.cacheClaim === undefined
      ? {}
      : { copyPaths: (copy: WorkspaceCopy) => using((e) => e.copyPaths!(copy)) }),
    callbackBaseUrl(loopbackUrl, advertisedUrl) {
      const url = options.callbackUrl ?? advertisedUrl;
      if (url !== undefined) return url;
      if (connected !== undefined) return connected.callbackBaseUrl(loopbackUrl, advertisedUrl);
      throw new ConfigError(
        'the kubernetes executor needs the URL at which pods reach this engine: set PILOTAGE_ADVERTISE_URL',
      );
    },
    async close() {
      closed = true;
      await connected?.close();
    },
  };
}
