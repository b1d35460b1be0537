import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeApi, loadKubeConfig } from '../src/executor/kubernetes/kube-api.js';
import { PodLogFollower } from '../src/executor/kubernetes/pod-logs.js';
import { CONTAINER_NAME } from '../src/executor/kubernetes/pod.js';
import type { LogLine } from '../src/executor/executor.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { TEST_IMAGES } from './support/images.js';
import { MERGE_PATCH } from './support/k8s-stand-in/cluster-api.js';
import { STAND_IN_ANNOTATIONS } from './support/k8s-stand-in/podman.js';
import { testCluster, testNamespace, type TestCluster, type TestNamespace } from './support/k8s.js';

// What a node does to pods on its own, on the real kube-apiserver: evicting a running pod under
// pressure, and starting a pod late. The node is the stand-in kubelet (no kubelet runs here);
// tests ask it for these through pod annotations (STAND_IN_ANNOTATIONS), and it acts through the
// API server as a kubelet does (the pod's status subresource, the log endpoint).
const found = await testCluster();
const skip = 'skip' in found ? found.skip : false;
const cluster = found as TestCluster;
const IMAGE = TEST_IMAGES.base;

describe('what a node does to pods (real API server, stand-in kubelet)', { skip, concurrency: false }, () => {
  let ns: TestNamespace;
  let h: Harness;

  before(async () => {
    if (skip) return;
    await cluster.requireStandIn('evict');
    await cluster.requireStandIn('delay');
    ns = await testNamespace(cluster, 'node');
    h = await createHarness({ executor: 'kubernetes', keepWorkspace: false, config: ns.config() });
  });

  after(async () => {
    await h?.close();
    await ns?.close();
  });

  test('a running pod evicted (Failed/Evicted set by the node): the attempt is errored with the eviction reason, then retried', async () => {
    const message =
      'The node was low on resource: memory. Container component was using 812Mi, which exceeds its request of 0.';
    const started = await h.start(`name: evicted
stages:
  - name: only
    actions:
      - name: task
        image: ${IMAGE}
        retries: { limit: 1, backoff: 1s }
        run: 'if [ "$CO_ATTEMPT" = 1 ]; then echo first-attempt-runs; sleep 300; fi; echo "[COUT] attempt=$CO_ATTEMPT"'
`);
    // node pressure, once the first attempt's container runs
    const pod = await eventually(
      async () => {
        const pods = await cluster.core.listNamespacedPod({
          namespace: ns.name,
          labelSelector: `pilotage.dev/run-id=${started.id}`,
        });
        const running = pods.items.find((p) => p.status?.phase === 'Running');
        return running?.metadata?.name;
      },
      60_000,
      'the first attempt running',
    );
    await cluster.core.patchNamespacedPod(
      { name: pod, namespace: ns.name, body: { metadata: { annotations: { [STAND_IN_ANNOTATIONS.evict]: message } } } },
      MERGE_PATCH,
    );
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const tasks = (await h.runtime.store.taskRuns.listByRun(run.id)).sort((a, b) => a.attempt - b.attempt);
    assert.deepEqual(
      tasks.map((t) => [t.attempt, t.state]),
      [
        [1, 'errored'],
        [2, 'succeeded'],
      ],
    );
    assert.equal(tasks[0]!.reason, `the pod was evicted: ${message}`);
    assert.equal(tasks[0]!.ref, pod);
    assert.deepEqual(tasks[1]!.output, { attempt: '2' });
    const logs = await h.runtime.store.logs.read(tasks[0]!.id);
    assert.ok(
      logs.some((l) => l.line === 'first-attempt-runs'),
      'the evicted attempt kept its log',
    );
    await eventually(async () => ((await ns.pods(run.id)).length === 0 ? true : undefined), 20_000, 'pods deleted');
  });

  test('a log asked for before the pod is bound and started (204/400): the follower waits, then reads the whole log once', async () => {
    const api = new KubeApi(loadKubeConfig({ inCluster: false, kubeconfig: cluster.kubeconfig }).kc, {
      qps: 50,
      burst: 100,
    });
    await api.open();
    const name = 'late-start';
    await cluster.core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name, annotations: { [STAND_IN_ANNOTATIONS.delayMs]: '2500' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: CONTAINER_NAME, image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'seq 1 300'] },
          ],
        },
      },
    });
    try {
      // what the API server answers now: no log yet (204 while unbound, 400 while it waits to start)
      const probe = await api.stream(
        'probe',
        `/api/v1/namespaces/${ns.name}/pods/${name}/log`,
        { container: CONTAINER_NAME },
        new AbortController().signal,
      );
      probe.body.resume();
      assert.ok([204, 400].includes(probe.status), `the log answered ${probe.status} before the start`);

      const lines: LogLine[] = [];
      const warnings: string[] = [];
      const follower = new PodLogFollower(
        api,
        ns.name,
        name,
        (line) => lines.push(line),
        (w) => warnings.push(w),
      );
      follower.start();
      await eventually(
        async () => {
          const pod = await cluster.core.readNamespacedPod({ name, namespace: ns.name });
          return pod.status?.phase === 'Succeeded' ? true : undefined;
        },
        60_000,
        'the late pod ran',
      );
      await follower.finish();
      assert.deepEqual(
        lines.map((l) => `${l.stream}:${l.line}`),
        Array.from({ length: 300 }, (_, i) => `stdout:${i + 1}`),
      );
      assert.ok((api.budget.taken()['follow log'] ?? 0) >= 2, 'asked again after "not yet"');
      assert.deepEqual(warnings, []);
    } finally {
      await cluster.core.deleteNamespacedPod({ name, namespace: ns.name }).catch(() => undefined);
      api.close();
    }
  });
});
