/**
 * The stand-in for what cannot run on our machines beside the real kube-apiserver: the
 * scheduler, the kubelet (with Podman as its runtime), and the controllers a cluster's volumes
 * and namespaces need. Started by `scripts/test-cluster.sh up`; everything it does goes
 * through the real API server. What it plays, and how:
 * - scheduler: binds every pod that names no node (and the default scheduler) to its one node,
 *   when the pod's `nodeSelector` matches the node's labels (else the pod stays Pending with
 *   PodScheduled False, Unschedulable);
 * - kubelet: runs the node's pods with Podman on the host network (see pod-runner.ts), serves
 *   their logs to the API server's log proxy (log-server.ts), registers the node;
 * - PV controller and provisioner: binds claims of StorageClasses whose provisioner is
 *   `pilotage.dev/stand-in-hostpath` to host folders, and the pvc/pv-protection finalizers
 *   (provisioner.ts);
 * - namespace controller: a namespace being deleted is emptied of pods and claims, then
 *   finalized (the real one deletes everything in it; this one deletes what Pilotage creates).
 * Env: KUBECONFIG, K8S_PKI (apiserver.crt/key for its TLS), NODE_NAME, KUBELET_PORT,
 * STAND_IN_STATE (a folder for pod volumes and default volumes).
 */
import { mkdir } from 'node:fs/promises';
import type * as k8s from '@kubernetes/client-node';
import { clusterApi, guarded, log, MERGE_PATCH, statusOf } from './cluster-api.js';
import { startLogServer } from './log-server.js';
import {
  podman,
  STAND_IN_ANNOTATIONS,
  STAND_IN_FEATURES,
  STAND_IN_FEATURES_ANNOTATION,
  STAND_IN_LABEL,
} from './podman.js';
import { PodRunner } from './pod-runner.js';
import { Provisioner } from './provisioner.js';
import { watchLoop } from './watch-loop.js';

const NODE = process.env['NODE_NAME'] ?? 'pilotage-stand-in';
const PORT = Number(process.env['KUBELET_PORT'] ?? 20250);
const PKI = process.env['K8S_PKI'] ?? '';
const STATE = process.env['STAND_IN_STATE'] ?? '/tmp/pilotage-k8s-stand-in';
const NODE_LABELS = { 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' };

const api = clusterApi();
const runners = new Map<string, PodRunner>();
const provisioner = new Provisioner(api, STATE);
const stopping = new AbortController();
/** pods whose binding waits (stand-in delay annotation), namespace/name */
const delayedBinds = new Set<string>();

async function registerNode(): Promise<void> {
  try {
    await api.core.readNode({ name: NODE });
  } catch {
    await api.core.createNode({ body: { metadata: { name: NODE, labels: NODE_LABELS } } });
  }
  await api.core.patchNode(
    { name: NODE, body: { metadata: { annotations: { [STAND_IN_FEATURES_ANNOTATION]: STAND_IN_FEATURES } } } },
    MERGE_PATCH,
  );
  const now = new Date();
  await api.core.patchNodeStatus(
    {
      name: NODE,
      body: {
        status: {
          addresses: [
            { type: 'InternalIP', address: '127.0.0.1' },
            { type: 'Hostname', address: '127.0.0.1' },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: PORT } },
          capacity: { cpu: '2', memory: '8Gi', pods: '110' },
          allocatable: { cpu: '2', memory: '8Gi', pods: '110' },
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'Pilotage stand-in kubelet (Podman)',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
          nodeInfo: {
            kubeletVersion: 'v1.20.2-pilotage-stand-in',
            containerRuntimeVersion: 'podman://4',
            operatingSystem: 'linux',
            architecture: 'amd64',
            kernelVersion: '',
            osImage: '',
            kubeProxyVersion: '',
            bootID: '',
            machineID: '',
            systemUUID: '',
          },
        },
      },
    },
    MERGE_PATCH,
  );
}

/** The scheduler's part: bind a pod that names no node to ours, if it fits. */
async function schedule(pod: k8s.V1Pod): Promise<void> {
  const { name, namespace } = pod.metadata as { name: string; namespace: string };
  const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
  if (scheduler !== 'default-scheduler' || pod.metadata?.deletionTimestamp) return;
  const selector = pod.spec?.nodeSelector ?? {};
  const fits = Object.entries(selector).every(([k, v]) => (NODE_LABELS as Record<string, string>)[k] === v);
  if (!fits) {
    const already = pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable');
    if (already) return;
    await guarded('unschedulable', () =>
      api.core.patchNamespacedPodStatus(
        {
          name,
          namespace,
          body: {
            status: {
              conditions: [
                {
                  type: 'PodScheduled',
                  status: 'False',
                  reason: 'Unschedulable',
                  message: `0/1 nodes are available: 1 node(s) didn't match node selector.`,
                  lastTransitionTime: new Date().toISOString(),
                },
              ],
            },
          },
        },
        MERGE_PATCH,
      ),
    );
    return;
  }
  const delayMs = Number(pod.metadata?.annotations?.[STAND_IN_ANNOTATIONS.delayMs] ?? 0);
  if (delayMs > 0) {
    // a busy scheduler: bound later (the kubelet then delays the start again, from when it sees it)
    const name = `${namespace}/${pod.metadata?.name}`;
    if (delayedBinds.has(name)) return;
    delayedBinds.add(name);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayedBinds.delete(name);
  }
  await api.core
    .createNamespacedPodBinding({
      name,
      namespace,
      body: { metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: NODE } },
    })
    .catch((error: unknown) => {
      if (statusOf(error) !== 409) log('bind failed', namespace, name, (error as Error).message);
    });
}

/** The kubelet's part for one pod event. */
function onPod(type: string, pod: k8s.V1Pod): void {
  const uid = pod.metadata?.uid ?? '';
  if (!pod.spec?.nodeName) {
    if (type !== 'DELETED') void schedule(pod);
    return;
  }
  if (pod.spec.nodeName !== NODE) return;
  const runner = runners.get(uid);
  if (type === 'DELETED') {
    runners.delete(uid);
    void runner?.delete(pod, true);
    void recheckClaims(pod);
    return;
  }
  if (pod.metadata?.deletionTimestamp) {
    if (runner) {
      void runner.delete(pod, false);
    } else {
      void guarded('confirm delete', () =>
        api.core.deleteNamespacedPod({
          name: pod.metadata!.name!,
          namespace: pod.metadata!.namespace!,
          gracePeriodSeconds: 0,
        }),
      );
    }
    return;
  }
  if (runner) {
    runner.updated(pod);
    if (['Succeeded', 'Failed'].includes(pod.status?.phase ?? '')) void recheckClaims(pod);
    return;
  }
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return;
  if (phase === 'Running') {
    // a pod a previous stand-in ran: its container is gone with that process
    void guarded('lost pod', () =>
      api.core.patchNamespacedPodStatus(
        {
          name: pod.metadata!.name!,
          namespace: pod.metadata!.namespace!,
          body: { status: { phase: 'Failed', reason: 'NodeRestarted', message: 'the stand-in kubelet restarted' } },
        },
        MERGE_PATCH,
      ),
    );
    return;
  }
  const created = new PodRunner(api, NODE, STATE, pod);
  runners.set(uid, created);
  void created.run();
}

/** A pod ended or went: claims it used that wait on pvc-protection may go now. */
async function recheckClaims(pod: k8s.V1Pod): Promise<void> {
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const claim = await api.core
      .readNamespacedPersistentVolumeClaim({ name: claimName, namespace: pod.metadata!.namespace! })
      .catch(() => undefined);
    if (claim?.metadata?.deletionTimestamp) await guarded('claim', () => provisioner.onClaim('MODIFIED', claim));
  }
}

/** The namespace controller's part: empty a namespace being deleted, then finalize it. */
async function onNamespace(type: string, namespace: k8s.V1Namespace): Promise<void> {
  const name = namespace.metadata?.name ?? '';
  if (type === 'DELETED' || !namespace.metadata?.deletionTimestamp) return;
  await guarded(`namespace ${name}`, async () => {
    for (let i = 0; i < 120; i++) {
      const pods = await api.core.listNamespacedPod({ namespace: name });
      const claims = await api.core.listNamespacedPersistentVolumeClaim({ namespace: name });
      if (pods.items.length === 0 && claims.items.length === 0) break;
      for (const pod of pods.items) {
        if (!pod.metadata?.deletionTimestamp) {
          await api.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: name }).catch(() => undefined);
        }
      }
      for (const claim of claims.items) {
        if (!claim.metadata?.deletionTimestamp) {
          await api.core
            .deleteNamespacedPersistentVolumeClaim({ name: claim.metadata!.name!, namespace: name })
            .catch(() => undefined);
        } else {
          await provisioner.onClaim('MODIFIED', claim);
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await api.core.deleteCollectionNamespacedConfigMap({ namespace: name }).catch(() => undefined);
    await api.core.deleteCollectionNamespacedSecret({ namespace: name }).catch(() => undefined);
    await api.core.replaceNamespaceFinalize({
      name,
      body: { metadata: { name }, spec: { finalizers: [] } },
    });
    log('namespace finalized', name);
  });
}

async function main(): Promise<void> {
  await mkdir(STATE, { recursive: true });
  // containers a previous stand-in left (it was killed): nothing can own them any more
  const left = await podman(['ps', '-aq', '--filter', `label=${STAND_IN_LABEL}=${NODE}`]);
  for (const id of left.stdout.split('\n').filter(Boolean)) await podman(['rm', '-f', id]);
  await registerNode();
  const server = await startLogServer(PKI, PORT, (namespace, pod, container) =>
    [...runners.values()].find((r) => r.namespace === namespace && r.name === pod && r.container.name === container),
  );
  const signal = stopping.signal;
  void watchLoop<k8s.V1Pod>(api.kc, '/api/v1/pods', {}, () => api.core.listPodForAllNamespaces(), onPod, signal);
  void watchLoop<k8s.V1PersistentVolumeClaim>(
    api.kc,
    '/api/v1/persistentvolumeclaims',
    {},
    () => api.core.listPersistentVolumeClaimForAllNamespaces(),
    (type, claim) => void guarded('claim', () => provisioner.onClaim(type, claim)),
    signal,
  );
  void watchLoop<k8s.V1Namespace>(
    api.kc,
    '/api/v1/namespaces',
    {},
    () => api.core.listNamespace(),
    (type, namespace) => void onNamespace(type, namespace),
    signal,
  );
  log(`node ${NODE} registered; kubelet log endpoint on 127.0.0.1:${PORT}; ready`);
  const stop = async (): Promise<void> => {
    stopping.abort();
    server.close();
    await Promise.all([...runners.values()].map((r) => r.kill()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

await main();
