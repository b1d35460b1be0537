import { setMaxListeners } from 'node:events';
import { isAbsolute, posix, relative, sep } from 'node:path';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { ConfigError, ExecutorError } from '../../domain/errors.js';
import type { PullPolicy } from '../../plan/types.js';
import type { RegistryAuthProvider } from '../docker/image-puller.js';
import type { Executor, LogLine, RunningRef, TaskHandle, TaskSpec, WorkspaceCopy } from '../executor.js';
import { type ComponentEnvPolicy } from '../shared/component-env.js';
import { CopyPods, INTO_WORKSPACE, OUT_OF_WORKSPACE } from './copy-pods.js';
import { apiMessage, KubeApi, loadKubeConfig, statusOf, type ClusterAccess } from './kube-api.js';
import { ANNOTATIONS, engineSelector, LABELS } from './labels.js';
import { PULL_POLICIES, toPodPlan } from './pod.js';
import { PodTask } from './pod-task.js';
import { PodWatcher } from './pod-watcher.js';
import { POD_WORKSPACE_MOUNT, RunClaims, type ClaimSettings } from './run-claims.js';

/** Defaults of the Kubernetes executor. */
export const KUBERNETES_DEFAULTS = {
  namespace: 'default',
  pullPolicy: 'if-missing' as PullPolicy,
  killGraceMs: 10_000,
  pullGraceMs: 60_000,
  qps: 20,
  burst: 40,
} as const;

/** The engine's own user, which copy pods writing into the engine's cache folder run as. */
const ENGINE_USER = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** How long a pod left by an interrupted start may take to go before its task's pod is created, ms. */
const REPLACE_WAIT_MS = 30_000;

/** Options of `createKubernetesExecutor`. */
export interface KubernetesExecutorOptions {
  /** where the cluster is (kubeconfig and context, or in-cluster) */
  readonly access: ClusterAccess;
  /** namespace of the pods and claims (default: the context's, else `default`) */
  readonly namespace?: string;
  /** this engine's stable id: labels what it creates, so that `list()` finds only its own */
  readonly engineId: string;
  /** client-side request budget (default 20 requests/s, bursts of 40) */
  readonly qps?: number;
  readonly burst?: number;
  /** grace between SIGTERM and SIGKILL of a deleted pod, ms (whole seconds are used) */
  readonly killGraceMs?: number;
  /** how long a start failure that may pass (ErrImagePull…) is tolerated, ms (default 60 s) */
  readonly pullGraceMs?: number;
  /** for components that set none (default `if-missing`) */
  readonly pullPolicy?: PullPolicy;
  /** image of components that name none (inline `run:` actions) */
  readonly defaultImage?: string;
  /** image of the pods that copy files between claims (needs sh and cp; default: `defaultImage`) */
  readonly helperImage?: string;
  /**
   * the claim holding the engine's cache folder, and the folder where the engine sees it: copy
   * pods restore and save `cache.paths` through it (`copyPaths`); absent, the executor has none
   */
  readonly cacheClaim?: { readonly claim: string; readonly hostDir: string };
  /** ServiceAccount of components that name none */
  readonly serviceAccountName?: string;
  /** the run workspace claims (default: the cluster's default class, ReadWriteOnce, 1Gi) */
  readonly storage?: Partial<Omit<ClaimSettings, 'namespace' | 'engineId'>>;
  /** registry credentials per image (from the secret store), turned into pull Secrets */
  readonly registryAuth?: RegistryAuthProvider;
  /** what components inherit of the engine's environment (default: nothing) */
  readonly engineEnv?: Readonly<Record<string, string | undefined>>;
  readonly passEnv?: readonly string[];
  /** base URL pods use for callbacks, overriding the advertised URL */
  readonly callbackUrl?: string;
  readonly warn?: (message: string) => void;
}

/** The Kubernetes executor: the Executor interface, plus what tests and the benchmark read. */
export interface KubernetesExecutor extends Executor {
  readonly namespace: string;
  /** the cluster access it uses (kubeconfig or in-cluster) */
  readonly kc: KubeConfig;
  /** API requests made so far, by kind (watch and log streams included, as `watch pods`, `follow log`) */
  requests(): Readonly<Record<string, number>>;
  /** how many times the pod watch listed again after a 410 Gone */
  readonly relists: number;
}

/**
 * Runs each task run as a pod through the Kubernetes API (executor/kubernetes/pod.ts makes
 * the pod; this is the thin I/O around it). The ref of a task is its pod's name,
 * `pilotage-<task run id>`.
 * - start: the pod (and the ConfigMaps of its volumes' initial data) is created; it resolves
 *   once the API server accepted it; scheduling, image pulls and the run are followed through
 *   one shared watch of the engine's pods (pod-watcher.ts), the log through the log API;
 * - the pod is kept after its container ends (its exit code is read from its status), until
 *   `destroy(ref)` deletes it (and its ConfigMaps);
 * - list/attach find pods by the labels `pilotage.dev/managed` and `pilotage.dev/engine-id`, so
 *   a restarted engine re-acquires what it started; list also reports ConfigMaps whose pod is
 *   gone, so that `destroy` reclaims them, and copy pods once they ended (one at work may be
 *   another replica's);
 * - run workspaces are claims (run-claims.ts); `listRuns` reports the claims left;
 * - every request goes through the client-side budget (QPS/burst).
 */
export async function createKubernetesExecutor(options: KubernetesExecutorOptions): Promise<KubernetesExecutor> {
  const { kc, namespace: contextNamespace } = loadKubeConfig(options.access);
  const namespace = options.namespace ?? contextNamespace ?? KUBERNETES_DEFAULTS.namespace;
  const warn = options.warn ?? ((message: string) => process.emitWarning(message));
  const api = new KubeApi(kc, {
    qps: options.qps ?? KUBERNETES_DEFAULTS.qps,
    burst: options.burst ?? KUBERNETES_DEFAULTS.burst,
  });
  try {
    await api.open();
  } catch (error) {
    const where = options.access.inCluster ? 'the in-cluster ServiceAccount' : 'the kubeconfig';
    throw new ConfigError(`cannot use the credentials of ${where}: ${(error as Error).message}`);
  }
  const selector = engineSelector(options.engineId);
  const watcher = new PodWatcher(api, namespace, selector, warn);
  const killGraceMs = options.killGraceMs ?? KUBERNETES_DEFAULTS.killGraceMs;
  const pullGraceMs = options.pullGraceMs ?? KUBERNETES_DEFAULTS.pullGraceMs;
  const helperImage = options.helperImage ?? options.defaultImage;
  const copyPods =
    helperImage === undefined
      ? undefined
      : new CopyPods(api, watcher, {
          namespace,
          labels: { [LABELS.managed]: 'true', [LABELS.engineId]: options.engineId },
          image: helperImage,
          imagePullPolicy: PULL_POLICIES[options.pullPolicy ?? KUBERNETES_DEFAULTS.pullPolicy],
          pullGraceMs,
          ...(options.serviceAccountName === undefined ? {} : { serviceAccountName: options.serviceAccountName }),
        });
  const claims = new RunClaims(
    api,
    {
      namespace,
      engineId: options.engineId,
      accessMode: options.storage?.accessMode ?? 'ReadWriteOnce',
      size: options.storage?.size ?? '1Gi',
      alwaysClaim: options.storage?.alwaysClaim ?? false,
      ...(options.storage?.storageClass === undefined ? {} : { storageClass: options.storage.storageClass }),
    },
    options.registryAuth,
    copyPods,
  );
  const envPolicy: ComponentEnvPolicy = {
    engineEnv: options.engineEnv ?? {},
    base: [],
    passEnv: options.passEnv ?? [],
  };
  const closing = new AbortController();
  // every running task listens on it
  setMaxListeners(0, closing.signal);
  /** refs started by this instance → whether the pod is all there is to remove */
  const simple = new Map<string, boolean>();
  /** refs whose pod is known to be gone (the watch saw it deleted) */
  const gone = new Set<string>();

  const call = api.call.bind(api);

  function task(
    name: string,
    facts: Record<string, string>,
    onLog: (line: LogLine) => void,
    extra: {
      endpoint?: { port: number; path: string };
      sinceMs?: number;
    },
  ): PodTask {
    gone.delete(name);
    return new PodTask({
      api,
      watcher,
      namespace,
      name,
      facts,
      onLog,
      warn,
      killGraceMs,
      pullGraceMs,
      ...extra,
      onGone: () => gone.add(name),
      closing: closing.signal,
    });
  }

  async function createPod(pod: V1Pod, label: string): Promise<void> {
    const name = pod.metadata!.name!;
    const deadline = Date.now() + REPLACE_WAIT_MS;
    for (let replaced = false; ;) {
      try {
        await call('create pod', (o) => api.core.createNamespacedPod({ namespace, body: pod }, o));
        return;
      } catch (error) {
        const status = statusOf(error);
        if (status !== 409 || Date.now() > deadline) throw startError(label, error);
      }
      // a pod of this task run is left from an interrupted start: replace it
      if (!replaced) {
        replaced = true;
        await call('delete pod', (o) =>
          api.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }, o),
        ).catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async function start(spec: TaskSpec, onLog: (line: LogLine) => void): Promise<TaskHandle> {
    const label = `${spec.component.name}@${spec.component.version}`;
    const image = spec.component.image ?? options.defaultImage;
    if (image === undefined) {
      throw new ExecutorError(
        `component ${label} names no image: the kubernetes executor needs one (set image: on the component or ` +
          `the inline action, or configure PILOTAGE_KUBERNETES_DEFAULT_IMAGE)`,
      );
    }
    const pullSecrets = await claims.pullSecretsFor(spec.runId, image);
    const plan = toPodPlan(spec, {
      namespace,
      engineId: options.engineId,
      image,
      pullPolicy: options.pullPolicy ?? KUBERNETES_DEFAULTS.pullPolicy,
      killGraceMs,
      imagePullSecrets: pullSecrets,
      envPolicy,
      ...(options.serviceAccountName === undefined ? {} : { serviceAccountName: options.serviceAccountName }),
    });
    for (const map of plan.configMaps) {
      await call('create configmap', (o) => api.core.createNamespacedConfigMap({ namespace, body: map }, o)).catch(
        (error: unknown) => {
          // 409: left by an interrupted start of this very task run, with the same content
          if (statusOf(error) !== 409) throw startError(label, error);
        },
      );
    }
    // subscribed before the pod exists, so that no event of it is missed
    const handle = task(
      plan.name,
      {
        pod: plan.name,
        namespace,
        image,
        ...(plan.warnings.length > 0 ? { warnings: plan.warnings.join('; ') } : {}),
      },
      onLog,
      spec.component.endpoint === undefined
        ? {}
        : { endpoint: { port: spec.component.endpoint.port, path: normalizePath(spec.component.endpoint.path) } },
    );
    try {
      await createPod(plan.pod, label);
    } catch (error) {
      await destroy(plan.name).catch(() => undefined);
      throw error;
    }
    simple.set(plan.name, plan.configMaps.length === 0);
    return handle;
  }

  async function destroy(ref: string): Promise<void> {
    try {
      if (!gone.has(ref)) {
        await call('delete pod', (o) =>
          api.core.deleteNamespacedPod({ name: ref, namespace, gracePeriodSeconds: 0 }, o),
        ).catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        });
      }
      if (simple.get(ref) !== true) {
        await call('delete configmaps', (o) =>
          api.core.deleteCollectionNamespacedConfigMap(
            { namespace, labelSelector: `${selector},${LABELS.owner}=${ref}` },
            o,
          ),
        );
      }
    } catch (error) {
      throw new ExecutorError(`cannot remove pod ${ref}: ${apiMessage(error)}`, { cause: error, retryable: true });
    }
    simple.delete(ref);
    gone.delete(ref);
  }

  async function list(): Promise<RunningRef[]> {
    try {
      const refs = new Map<string, RunningRef>();
      const pods = await call('list pods', (o) =>
        api.core.listNamespacedPod({ namespace, labelSelector: selector }, o),
      );
      for (const pod of pods.items) {
        const labels = pod.metadata?.labels ?? {};
        const phase = pod.status?.phase;
        // a copy pod at work may be another replica's (replicas share the owner label): it ends by
        // itself (activeDeadlineSeconds) and is listed, to be removed, once it has
        if (labels[LABELS.role] === 'copy' && (phase === 'Pending' || phase === 'Running')) continue;
        refs.set(pod.metadata!.name!, {
          ref: pod.metadata!.name!,
          runId: labels[LABELS.runId] ?? '',
          taskRunId: labels[LABELS.taskRunId] ?? '',
          running: (phase === 'Pending' || phase === 'Running') && pod.metadata?.deletionTimestamp === undefined,
        });
      }
      const maps = await call('list configmaps', (o) =>
        api.core.listNamespacedConfigMap({ namespace, labelSelector: selector }, o),
      );
      for (const map of maps.items) {
        const labels = map.metadata?.labels ?? {};
        const owner = labels[LABELS.owner];
        if (owner === undefined || refs.has(owner)) continue;
        refs.set(owner, {
          ref: owner,
          runId: labels[LABELS.runId] ?? '',
          taskRunId: labels[LABELS.taskRunId] ?? '',
          running: false,
        });
      }
      return [...refs.values()];
    } catch (error) {
      throw new ExecutorError(`cannot list the pods of this engine in ${namespace}: ${apiMessage(error)}`, {
        cause: error,
        retryable: true,
      });
    }
  }

  async function attach(
    ref: string,
    onLog: (line: LogLine) => void,
    sinceMs?: number,
  ): Promise<TaskHandle | undefined> {
    let pod: V1Pod;
    try {
      pod = await call('read pod', (o) => api.core.readNamespacedPod({ name: ref, namespace }, o));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw new ExecutorError(`cannot read pod ${ref}: ${apiMessage(error)}`, { cause: error, retryable: true });
    }
    const labels = pod.metadata?.labels ?? {};
    if (labels[LABELS.managed] !== 'true' || labels[LABELS.engineId] !== options.engineId) return undefined;
    if (pod.metadata?.deletionTimestamp !== undefined) return undefined;
    const port = pod.spec?.containers[0]?.ports?.find((p) => p.name === 'endpoint')?.containerPort;
    const path = pod.metadata?.annotations?.[ANNOTATIONS.endpointPath];
    return task(ref, { pod: ref, namespace, image: pod.spec?.containers[0]?.image ?? '', attached: 'true' }, onLog, {
      ...(port === undefined ? {} : { endpoint: { port, path: path ?? '/' } }),
      sinceMs: sinceMs ?? Date.now(),
    });
  }

  /**
   * Copy `cache.paths` between the run's claim and a folder under the engine's cache folder,
   * which the cache claim holds: a copy pod mounts both.
   */
  async function copyPaths(cache: { readonly claim: string; readonly hostDir: string }, copy: WorkspaceCopy) {
    const inCache = relative(cache.hostDir, copy.dir);
    if (inCache.startsWith('..') || isAbsolute(inCache)) {
      throw new ExecutorError(
        `cannot copy files with ${copy.dir}: it is not in the cache folder ${cache.hostDir} (claim ${cache.claim})`,
      );
    }
    if (copy.workspace.ref === undefined || copyPods === undefined) {
      throw new ExecutorError(`cannot copy files into the workspace of run ${copy.runId}: it is not a claim`);
    }
    const toWorkspace = copy.into === 'workspace';
    await copyPods.run(
      toWorkspace ? `restore ${copy.paths.join(', ')} from the cache` : `save ${copy.paths.join(', ')} to the cache`,
      copy.runId,
      [
        { claim: cache.claim, mountPath: '/cache', readOnly: toWorkspace },
        { claim: copy.workspace.ref, mountPath: POD_WORKSPACE_MOUNT },
      ],
      toWorkspace ? INTO_WORKSPACE : OUT_OF_WORKSPACE,
      [posix.join('/cache', ...inCache.split(sep)), ...copy.paths],
      // files saved into the cache folder are the engine's, so that it can evict them
      toWorkspace ? undefined : ENGINE_USER,
    );
  }

  return {
    name: 'kubernetes',
    // pods run on without the engine; any engine process with the same engineId finds them by label
    survivesEngine: true,
    namespace,
    kc,
    start,
    destroy,
    list,
    attach,
    prepareRun: (scope) => claims.prepare(scope),
    releaseRun: (runId, { keep }) => claims.release(runId, keep),
    listRuns: () => claims.list(),
    ...(options.cacheClaim === undefined
      ? {}
      : { copyPaths: (copy: WorkspaceCopy) => copyPaths(options.cacheClaim!, copy) }),
    callbackBaseUrl(_loopbackUrl, advertisedUrl) {
      const url = options.callbackUrl ?? advertisedUrl;
      if (url === undefined) {
        throw new ConfigError(
          'the kubernetes executor needs the URL at which pods reach this engine: set PILOTAGE_ADVERTISE_URL ' +
            '(in a cluster, the URL of the Service in front of the engine, such as http://pilotage.pilotage.svc:8080)',
        );
      }
      return url;
    },
    requests: () => api.budget.taken(),
    get relists() {
      return watcher.relists;
    },
    async close() {
      // Ends the watch and the log streams; the pods keep running.
      closing.abort();
      await watcher.close();
      api.close();
    },
  };
}

function normalizePath(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

/** A failed create as the task run's reason: the API server's own message (422 names the field). */
function startError(label: string, error: unknown): ExecutorError {
  const status = statusOf(error);
  const hint = status === 403 ? " (the engine's ServiceAccount lacks a permission: see docs/kubernetes.md)" : '';
  return new ExecutorError(`cannot start component ${label}: ${apiMessage(error)}${hint}`, {
    cause: error,
    retryable: status === undefined || status >= 500 || status === 429,
  });
}
