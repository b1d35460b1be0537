#!/usr/bin/env node
// `npm run bench:kubernetes`: the Kubernetes executor's per-task cost against the floor of the
// same cluster (a bare loop that creates a pod, waits until it Succeeded, and deletes it, through
// the same API and client), for N trivial actions (default 50) one after the other and all at
// once; and the API requests the executor makes per task run. See bench/README.md ("Kubernetes
// executor"). The cluster is the test cluster (scripts/test-cluster.sh): a real kube-apiserver,
// pods run by the podman-backed stand-in kubelet.
//   node --import tsx bench/kubernetes.mjs   after `npm run build` (tsx: the test support is TypeScript)
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { loadConfig } from '../packages/engine/dist/config/config.js';
import { createKubernetesExecutor } from '../packages/engine/dist/executor/kubernetes/kubernetes-executor.js';
import { createRuntime } from '../packages/engine/dist/main.js';
import { TEST_IMAGES } from '../packages/engine/test/support/images.js';
import { testCluster, testNamespace } from '../packages/engine/test/support/k8s.js';
import { sequentialBreakdown } from './breakdown.mjs';
import { machineLine, median, positiveEnv } from './common.mjs';
import { benchPlan, timeEngineRun } from './engine-bench.mjs';
import { fixed, formatTable } from './table.mjs';

/** The targets of issue 10. */
const MAX_RATIO = 1.2;
const MAX_REQUESTS_PER_TASK = 6;
const WARMUP_N = 3;

const here = dirname(fileURLToPath(import.meta.url));
const n = positiveEnv('BENCH_N', 50);
const rounds = positiveEnv('BENCH_ROUNDS', 3);
const progress = (text) => process.stderr.write(`${text}\n`);

const cluster = await testCluster();
if ('skip' in cluster) {
  console.error(`the Kubernetes bench needs the test cluster: ${cluster.skip}`);
  process.exit(1);
}

/**
 * The floor: `count` pods of the same image and command, created through the same client; each
 * waits until its pod Succeeded (one shared watch, as the executor's), then deletes it.
 */
async function timeBareLoop(namespace, count, parallel, label) {
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  const waiting = new Map();
  const selector = `bench=${label}`;
  // one watch, resumed from its last resourceVersion whenever the API server ends it (the test
  // cluster ends watches every 5-10 s), listed again after an error
  let stopped = false;
  let current;
  const seen = (pod) => {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') waiting.get(pod.metadata.name)?.(phase);
  };
  const watching = (async () => {
    let resourceVersion;
    while (!stopped) {
      if (resourceVersion === undefined) {
        const listed = await core.listNamespacedPod({ namespace, labelSelector: selector });
        listed.items.forEach(seen);
        resourceVersion = listed.metadata.resourceVersion;
      }
      await new Promise((resolve) => {
        void new k8s.Watch(cluster.kc)
          .watch(
            `/api/v1/namespaces/${namespace}/pods`,
            { labelSelector: selector, resourceVersion },
            (type, pod) => {
              if (type === 'ERROR') return (resourceVersion = undefined);
              resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion;
              seen(pod);
            },
            (error) => {
              if (error) resourceVersion = undefined;
              resolve();
            },
          )
          .then((controller) => (current = controller));
      });
    }
  })();
  let next = 0;
  const once = async () => {
    const name = `bare-${label}-${next++}`;
    const done = new Promise((resolve) => waiting.set(name, resolve));
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { bench: label } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            { name: 'component', image: TEST_IMAGES.base, imagePullPolicy: 'IfNotPresent', command: ['true'] },
          ],
        },
      },
    });
    const phase = await done;
    if (phase !== 'Succeeded') throw new Error(`bare pod ${name} ${phase}`);
    await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
  };
  const begin = performance.now();
  if (parallel) await Promise.all(Array.from({ length: count }, once));
  else for (let i = 0; i < count; i++) await once();
  const ms = performance.now() - begin;
  stopped = true;
  current?.abort();
  await watching;
  return ms;
}

const ns = await testNamespace(cluster, 'bench');
const dir = await mkdtemp(join(tmpdir(), 'pilotage-bench-k8s-'));
const plan = (name, count, concurrency) =>
  benchPlan({
    dir,
    name,
    componentFile: join(here, 'components/k8s-noop/component.yaml'),
    n: count,
    concurrency,
    executor: 'kubernetes',
  });
const modes = [
  { key: 'seq', label: 'sequential', concurrency: 1, parallel: false },
  { key: 'par', label: 'parallel', concurrency: n, parallel: true },
];
const results = [];
let runtime;
let executor;
try {
  progress(`engine on namespace ${ns.name} of the test cluster...`);
  executor = await createKubernetesExecutor({
    access: { inCluster: false, kubeconfig: cluster.kubeconfig },
    namespace: ns.name,
    engineId: ns.engineId,
    storage: { storageClass: ns.storageClass },
    callbackUrl: ns.callbackUrl,
    // the budget must not be the bottleneck of the parallel mode: the floor has none
    qps: 1000,
    burst: 1000,
  });
  runtime = await createRuntime(
    loadConfig({
      env: {},
      home: dir,
      flags: {
        ...ns.config({ executor: 'local' }),
        db: join(dir, 'bench.db'),
        dataDir: dir,
        maxParallel: Math.max(n, WARMUP_N),
        keepWorkspace: false,
      },
    }),
    { executors: [executor] },
  );
  progress(`warming up (${WARMUP_N} actions, engine and bare, each mode)...`);
  for (const mode of modes) {
    await timeEngineRun(runtime, await plan(`warmup-${mode.key}`, WARMUP_N, Math.min(mode.concurrency, WARMUP_N)));
    await timeBareLoop(ns.name, WARMUP_N, mode.parallel, `warmup-${mode.key}`);
  }
  // the machine is shared: bare and engine alternate, round after round, and medians are kept
  for (const mode of modes) {
    const bares = [];
    const engines = [];
    const loads = [];
    const requests = {};
    for (let round = 1; round <= rounds; round++) {
      // the machine is shared: the 1-minute load average at each round's start, printed beside it
      loads.push(loadavg()[0]);
      progress(`measuring ${mode.label}, ${n} actions, round ${round}/${rounds} (load ${fixed(loads.at(-1), 1)})...`);
      const bench = await plan(`bench-${mode.key}-${round}`, n, mode.concurrency);
      bares.push(await timeBareLoop(ns.name, n, mode.parallel, `${mode.key}-${round}`));
      const before = executor.requests();
      engines.push(await timeEngineRun(runtime, bench));
      for (const [kind, count] of Object.entries(executor.requests())) {
        const made = count - (before[kind] ?? 0);
        if (made > 0) requests[kind] = (requests[kind] ?? 0) + made / rounds;
      }
    }
    const engine = [...engines].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(rounds / 2)];
    results.push({
      mode,
      bareMs: median(bares),
      engine,
      requests,
      bares,
      loads,
      engines: engines.map((e) => e.wallMs),
    });
  }
  const left = await ns.pods();
  if (left.length > 0) throw new Error(`pods left behind: ${left.join(', ')}`);
} finally {
  await runtime?.close();
  await ns.close();
  await rm(dir, { recursive: true, force: true });
}

console.log(
  `Pilotage Kubernetes bench, ${new Date().toISOString().slice(0, 10)}: ${n} trivial actions per run, ` +
    `medians of ${rounds} alternating rounds`,
);
console.log(
  `${machineLine()}; load average at the end ${loadavg()
    .map((x) => fixed(x, 1))
    .join(' ')}`,
);
console.log(
  'engine: SQLite file store, kubernetes executor; bare: create a pod, wait until Succeeded (a shared watch), ' +
    `delete it, with the same client; real kube-apiserver 1.20, pods run by the podman stand-in kubelet; ` +
    `image ${TEST_IMAGES.base}, command true; times in ms\n`,
);
const rows = [['mode', 'engine', 'bare', 'engine/task', 'bare/task', 'overhead/task', 'engine/bare']];
for (const r of results) {
  rows.push([
    r.mode.label,
    fixed(r.engine.wallMs, 0),
    fixed(r.bareMs, 0),
    fixed(r.engine.wallMs / n),
    fixed(r.bareMs / n),
    fixed((r.engine.wallMs - r.bareMs) / n),
    `${fixed(r.engine.wallMs / r.bareMs)}x`,
  ]);
}
console.log(formatTable(rows));
for (const r of results) {
  console.log(
    `  ${r.mode.label} rounds: engine ${r.engines.map((x) => fixed(x, 0)).join(', ')}; bare ${r.bares.map((x) => fixed(x, 0)).join(', ')}; ` +
      `load at their start ${r.loads.map((x) => fixed(x, 1)).join(', ')}`,
  );
}

const seq = results.find((r) => r.mode.key === 'seq');
const b = sequentialBreakdown(seq.engine.tasks);
console.log("\nWhere a sequential task's time goes (means of the engine's recorded times, ms):");
console.log(
  formatTable([
    ['between tasks (incl. deleting the last pod)', 'record+create pod', 'pod created to recorded end'],
    [fixed(b.between), fixed(b.toRunning), fixed(b.running)],
  ]),
);
console.log('\nAPI requests of the executor per run (the shared watch excluded), and per task run:');
const kinds = [...new Set(results.flatMap((r) => Object.keys(r.requests)))].filter((k) => k !== 'watch pods').sort();
const perTask = (r) => kinds.reduce((sum, k) => sum + (r.requests[k] ?? 0), 0) / n;
console.log(
  formatTable([
    ['mode', ...kinds, 'per task run'],
    ...results.map((r) => [r.mode.label, ...kinds.map((k) => fixed(r.requests[k] ?? 0, 1)), fixed(perTask(r))]),
  ]),
);
console.log(
  `\nTargets (issue 10): engine <= ${MAX_RATIO}x the bare loop; <= ${MAX_REQUESTS_PER_TASK} requests per task run`,
);
for (const r of results) {
  const ratio = r.engine.wallMs / r.bareMs;
  console.log(
    `  ${r.mode.label}: ${fixed(ratio)}x ${ratio <= MAX_RATIO ? 'met' : 'NOT MET'}; ${fixed(perTask(r))} requests per task run ${perTask(r) <= MAX_REQUESTS_PER_TASK ? 'met' : 'NOT MET'}`,
  );
}
