import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import Docker from 'dockerode';
import { newId } from '../../src/domain/ids.js';
import type { KubernetesExecutorOptions } from '../../src/executor/kubernetes/kubernetes-executor.js';
import { freeLoopbackPort } from '../../src/executor/shared/free-port.js';
import { ensureTestImages, TEST_IMAGES } from './images.js';
import { STAND_IN_FEATURES_ANNOTATION } from './k8s-stand-in/podman.js';
import { podmanSkipReason, startPodmanService } from './podman.js';

const run = promisify(execFile);
const REPO_ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
const SCRIPT = join(REPO_ROOT, 'scripts', 'test-cluster.sh');

/** The provisioner of the stand-in's host-folder volumes (test/support/k8s-stand-in/provisioner.ts). */
export const STAND_IN_PROVISIONER = 'pilotage.dev/stand-in-hostpath';

/**
 * The test cluster: the real kube-apiserver and etcd of `scripts/test-cluster.sh`, with the
 * podman-backed stand-in for the scheduler, the kubelet and the volume provisioner.
 */
export interface TestCluster {
  /** the admin kubeconfig */
  readonly kubeconfig: string;
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly storage: k8s.StorageV1Api;
  /** env of the script (KUBECONFIG, ETCDCTL_ENDPOINTS, PATH with kubectl…) */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Throws unless the running stand-in can do `feature` (`pull`, `evict`, `delay`): a cluster
   * started from an older checkout runs an older stand-in (restart it: test-cluster.sh down, up).
   */
  requireStandIn(feature: string): Promise<void>;
}

let shared: Promise<TestCluster> | undefined;

/**
 * The test cluster, started by `scripts/test-cluster.sh up` when it is not running (warm: ~10 s;
 * the first build of the API server: ~4 min), and the test images in Podman's store. Resolves
 * with a skip reason instead when it cannot run here, except under CI=true, where that throws:
 * a missing cluster is a failure, never a skip.
 */
export async function testCluster(): Promise<TestCluster | { readonly skip: string }> {
  const podman = podmanSkipReason();
  if (podman !== undefined) return { skip: podman };
  shared ??= startCluster();
  try {
    return await shared;
  } catch (error) {
    if (process.env['CI'] === 'true') throw error;
    return { skip: `the test cluster cannot start here: ${(error as Error).message}` };
  }
}

async function startCluster(): Promise<TestCluster> {
  const status = await run(SCRIPT, ['status']).then(
    () => true,
    () => false,
  );
  if (!status) {
    const up = spawn(SCRIPT, ['up'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    up.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const code = await new Promise<number | null>((resolve) => up.on('close', resolve));
    if (code !== 0) throw new Error(`scripts/test-cluster.sh up failed (${code}): ${log}`);
  }
  const { stdout } = await run(SCRIPT, ['env']);
  const env: Record<string, string> = {};
  for (const [, key, value] of stdout.matchAll(/([A-Z0-9_]+)=(\S+)/g)) env[key!] = value!;
  env['PATH'] = (env['PATH'] ?? '').replace('$PATH', process.env['PATH'] ?? '');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env['KUBECONFIG']!);
  // the stand-in runs pods from Podman's local store: build the test images there
  const service = await startPodmanService();
  try {
    await ensureTestImages(new Docker({ socketPath: service.socketPath }), ['base']);
  } finally {
    await service.stop();
  }
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    kubeconfig: env['KUBECONFIG']!,
    kc,
    core,
    storage: kc.makeApiClient(k8s.StorageV1Api),
    env,
    async requireStandIn(feature) {
      const nodes = await core.listNode();
      const features = nodes.items.flatMap((node) =>
        (node.metadata?.annotations?.[STAND_IN_FEATURES_ANNOTATION] ?? '').split(','),
      );
      if (!features.includes(feature)) {
        throw new Error(
          `the running stand-in kubelet cannot "${feature}" (it came from an older checkout): ` +
            'restart the test cluster (scripts/test-cluster.sh down && scripts/test-cluster.sh up)',
        );
      }
    },
  };
}

/** A namespace of one test file, with a StorageClass of the stand-in's host folders. */
export interface TestNamespace {
  readonly name: string;
  /** the StorageClass whose claims are host folders `<workspaceRoot>/<run id>` */
  readonly storageClass: string;
  /** the folder holding the run workspaces (as the engine's workspaceRoot) */
  readonly workspaceRoot: string;
  /** a free loopback port for the engine's callback server, and its URL (pods use the host network) */
  readonly callbackPort: number;
  readonly callbackUrl: string;
  /** an engine id of its own */
  readonly engineId: string;
  /** names of the pods (of a run, when given) that exist in the namespace */
  pods(runId?: string): Promise<string[]>;
  /** names of the workspace claims that exist in the namespace */
  claims(): Promise<string[]>;
  /** options of a kubernetes executor of its own on this namespace (short graces), with `extra` */
  executorOptions(extra?: Partial<KubernetesExecutorOptions>): KubernetesExecutorOptions;
  /** the engine configuration keys that run on this namespace (kubernetes executor) */
  config(extra?: Record<string, string | number | boolean>): Record<string, string | number | boolean>;
  /** delete everything in it, then it (the stand-in finalizes namespaces), and the StorageClass */
  close(): Promise<void>;
}

/**
 * A fresh namespace `pt-<prefix>-<random>` (test files run concurrently, each in its own), and
 * a StorageClass provisioned by the stand-in whose claims are the folders
 * `<workspaceRoot>/<run id>`: so a run's workspace claim is the folder a local or docker run
 * would use, which the shared contract suite reads.
 */
export async function testNamespace(cluster: TestCluster, prefix: string): Promise<TestNamespace> {
  const suffix = newId().slice(-8).toLowerCase();
  const name = `pt-${prefix}-${suffix}`;
  await cluster.core.createNamespace({ body: { metadata: { name, labels: { 'pilotage.dev/test': 'true' } } } });
  const workspaceRoot = await mkdtemp(join(tmpdir(), `pilotage-k8s-${prefix}-`));
  const storageClass = `${name}-ws`;
  await cluster.storage.createStorageClass({
    body: {
      metadata: { name: storageClass },
      provisioner: STAND_IN_PROVISIONER,
      parameters: { hostPathTemplate: `${workspaceRoot}/{label:pilotage.dev/run-id}` },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    },
  });
  const callbackPort = await freeLoopbackPort();
  const engineId = `test-${prefix}-${suffix}`;
  const names = (items: { metadata?: { name?: string; deletionTimestamp?: Date } }[]) =>
    items.filter((i) => i.metadata?.deletionTimestamp === undefined).map((i) => i.metadata!.name!);
  return {
    name,
    storageClass,
    workspaceRoot,
    callbackPort,
    callbackUrl: `http://127.0.0.1:${callbackPort}`,
    engineId,
    async pods(runId) {
      const selector = runId === undefined ? undefined : `pilotage.dev/run-id=${runId}`;
      const list = await cluster.core.listNamespacedPod({
        namespace: name,
        ...(selector ? { labelSelector: selector } : {}),
      });
      return list.items.map((p) => p.metadata!.name!);
    },
    async claims() {
      return names((await cluster.core.listNamespacedPersistentVolumeClaim({ namespace: name })).items);
    },
    executorOptions(extra = {}) {
      return {
        access: { inCluster: false, kubeconfig: cluster.kubeconfig },
        namespace: name,
        engineId,
        killGraceMs: 1000,
        pullGraceMs: 3000,
        defaultImage: TEST_IMAGES.base,
        storage: { storageClass },
        callbackUrl: `http://127.0.0.1:${callbackPort}`,
        ...extra,
      };
    },
    config(extra = {}) {
      return {
        executor: 'kubernetes',
        kubeconfig: cluster.kubeconfig,
        kubernetesNamespace: name,
        kubernetesStorageClass: storageClass,
        kubernetesDefaultImage: TEST_IMAGES.base,
        kubernetesPullGraceMs: '3s',
        advertiseUrl: `http://127.0.0.1:${callbackPort}`,
        callbackHost: '127.0.0.1',
        callbackPort,
        engineId,
        workspaceRoot,
        ...extra,
      };
    },
    async close() {
      await cluster.core.deleteNamespace({ name }).catch(() => undefined);
      // the stand-in empties and finalizes it; wait for that, so that nothing is left running
      for (let i = 0; i < 200; i++) {
        const left = await cluster.core.readNamespace({ name }).catch(() => undefined);
        if (left === undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await cluster.storage.deleteStorageClass({ name: storageClass }).catch(() => undefined);
      await rm(workspaceRoot, { recursive: true, force: true });
    },
  };
}

/**
 * Compact etcd at its current revision, so that a watch resumed from an older resourceVersion
 * is answered 410 Gone (the test cluster's API server runs without a watch cache).
 */
export async function compactEtcd(cluster: TestCluster): Promise<number> {
  const env = { ...process.env, ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: cluster.env['ETCDCTL_ENDPOINTS']! };
  const { stdout } = await run('etcdctl', ['endpoint', 'status', '-w', 'json'], { env });
  const revision = (JSON.parse(stdout) as { Status: { header: { revision: number } } }[])[0]!.Status.header.revision;
  await run('etcdctl', ['compact', String(revision)], { env });
  return revision;
}

/**
 * Make the stand-in kubelet drop every log stream it serves (SIGUSR2), as a lost connection
 * would: the API server's proxied streams end, and followers must resume.
 */
export async function dropLogStreams(cluster: TestCluster): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const pid = Number((await readFile(join(cluster.env['K8S_STATE']!, 'stand-in.pid'), 'utf8')).trim());
  process.kill(pid, 'SIGUSR2');
}
