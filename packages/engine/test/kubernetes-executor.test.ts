import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createKubernetesExecutor, type KubernetesExecutor } from '../src/executor/kubernetes/kubernetes-executor.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { TEST_IMAGES } from './support/images.js';
import {
  compactEtcd,
  dropLogStreams,
  testCluster,
  testNamespace,
  type TestCluster,
  type TestNamespace,
} from './support/k8s.js';

// The Kubernetes executor's lifecycle against the real kube-apiserver; pods are run by the
// podman-backed stand-in kubelet (a stand-in: no kubelet or scheduler can run here), which also
// plays the volume provisioner (claims are host folders <workspaceRoot>/<run id>).
const found = await testCluster();
const skip = 'skip' in found ? found.skip : false;
const cluster = found as TestCluster;
const IMAGE = TEST_IMAGES.base;

/** Requests made between two counts, watch and list of the shared pod watch left out. */
function requestsSince(before: Readonly<Record<string, number>>, now: Readonly<Record<string, number>>) {
  const delta: Record<string, number> = {};
  for (const [kind, count] of Object.entries(now)) {
    if (kind === 'watch pods' || kind === 'list pods') continue;
    const made = count - (before[kind] ?? 0);
    if (made > 0) delta[kind] = made;
  }
  return delta;
}

const total = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('kubernetes executor lifecycle (real API server, stand-in kubelet)', { skip, concurrency: false }, () => {
  let ns: TestNamespace;
  let executor: KubernetesExecutor;
  let h: Harness;

  before(async () => {
    if (skip) return;
    ns = await testNamespace(cluster, 'lifecycle');
    executor = await createKubernetesExecutor(ns.executorOptions());
    h = await createHarness({
      executor: 'kubernetes',
      keepWorkspace: false,
      config: ns.config({ executor: 'local' }),
      extraExecutors: [executor],
    });
  });

  after(async () => {
    await h?.close();
    await ns?.close();
  });

  const gone = (runId: string) =>
    eventually(async () => ((await ns.pods(runId)).length === 0 ? true : undefined), 20_000, 'no pod of the run');

  test('one pod per task run, deleted once its exit was recorded; a single action gets an emptyDir; ≤ 6 requests', async () => {
    const before = executor.requests();
    const { run, byAction } = await h.run(`name: one-pod
stages:
  - name: only
    actions:
      - { name: task, image: ${IMAGE}, run: 'echo "[COUT] where=$CO_WORKSPACE"; echo to-stderr >&2' }
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const task = byAction.get('task')!;
    assert.equal(task.ref, `pilotage-${task.id.toLowerCase()}`);
    assert.equal(task.facts['namespace'], ns.name);
    assert.deepEqual(task.output, { where: '/workspace' });
    const logs = await h.runtime.store.logs.read(task.id);
    assert.ok(
      logs.some((l) => l.stream === 'stderr' && l.line === 'to-stderr'),
      JSON.stringify(logs),
    );
    assert.deepEqual(await ns.pods(run.id), [], 'deleted before the run ended');
    const made = requestsSince(before, executor.requests());
    assert.equal(made['create claim'], undefined, 'no claim for a single action');
    assert.ok(total(made) <= 6, `requests per task run: ${JSON.stringify(made)}`);
  });

  test('the workspace is shared by two actions in two stages (a claim: a host folder on the stand-in), then deleted', async () => {
    const { run, byAction } = await h.run(`name: shared-workspace
stages:
  - name: write
    actions:
      - { name: writer, image: ${IMAGE}, run: 'echo built-in-stage-one > "$CO_WORKSPACE/artifact.txt"' }
  - name: read
    actions:
      - { name: reader, image: ${IMAGE}, run: 'echo "[COUT] artifact=$(cat "$CO_WORKSPACE/artifact.txt")"' }
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.deepEqual(byAction.get('reader')!.output, { artifact: 'built-in-stage-one' });
    // the claim is deleted, and its volume with it (the stand-in's provisioner, reclaim policy Delete)
    await eventually(
      async () => ((await ns.claims()).length === 0 && !existsSync(join(ns.workspaceRoot, run.id)) ? true : undefined),
      20_000,
      'the claim and its volume deleted',
    );
  });

  test('action cache without a cache claim: cache.paths is not honoured (runs every time, warned); cache: true is', async () => {
    const yaml = `name: cached-on-kubernetes
stages:
  - name: build
    actions:
      - { name: build, image: ${IMAGE}, run: 'mkdir -p "$CO_WORKSPACE/dist"; echo "[COUT] at=$$"', cache: { paths: [dist] } }
      - { name: plain, image: ${IMAGE}, run: 'echo "[COUT] at=$$"', cache: true }
`;
    const first = await h.run(yaml);
    assert.equal(first.run.state, 'succeeded', first.run.reason ?? '');
    const second = await h.run(yaml);
    assert.equal(second.run.state, 'succeeded', second.run.reason ?? '');
    const build = second.byAction.get('build')!;
    assert.equal(build.reason, null, 'ran again, not taken from the cache');
    assert.equal(build.facts['cachedFrom'], undefined);
    assert.ok(build.ref !== null && build.ref !== first.byAction.get('build')!.ref, 'a pod of its own');
    assert.equal(second.byAction.get('plain')!.reason, `cached from run ${first.run.id}`, 'outputs only: cached');
  });

  test('a volume with initial data is a ConfigMap, removed with the pod', async () => {
    const component = await h.write(
      'seeded.component.yaml',
      `apiVersion: pilotage.dev/v1
kind: Component
name: seeded
version: 1.0.0
image: ${IMAGE}
command: ["sh", "-c", "echo \\"[COUT] config=$(cat /etc/tool/conf/settings.json)\\""]
volumes:
  - { name: conf, mountPath: /etc/tool, readOnly: true, initialData: { conf/settings.json: '{"level":3}' } }
`,
    );
    const { run, byAction } = await h.run(
      `name: seeded\nstages:\n  - name: only\n    actions:\n      - { name: task, component: ${component} }\n`,
    );
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.deepEqual(byAction.get('task')!.output, { config: '{"level":3}' });
    const maps = await cluster.core.listNamespacedConfigMap({
      namespace: ns.name,
      labelSelector: `pilotage.dev/run-id=${run.id}`,
    });
    assert.deepEqual(maps.items, []);
  });

  test('an image that cannot be pulled: errored after the pull grace, naming the image; the pod deleted', async () => {
    const { run, byAction } = await h.run(`name: missing-image
stages:
  - name: only
    actions:
      - { name: task, image: localhost/pilotage/missing:1, run: 'true' }
`);
    const task = byAction.get('task')!;
    assert.equal(task.state, 'errored');
    assert.match(
      task.reason ?? '',
      /image localhost\/pilotage\/missing:1 could not be pulled \((ErrImagePull|ImagePullBackOff)/,
    );
    assert.match(task.reason ?? '', /still failing after 3s/);
    const logs = await h.runtime.store.logs.read(task.id);
    assert.ok(
      logs.some((l) => l.stream === 'stderr' && l.line.startsWith('[pilotage] image localhost/pilotage/missing:1')),
    );
    await gone(run.id);
  });

  test('pull policy never and no image: errored at once (ErrImageNeverPull)', async () => {
    const component = await h.write(
      'never.component.yaml',
      `apiVersion: pilotage.dev/v1
kind: Component
name: never
version: 1.0.0
image: localhost/pilotage/never-built:1
pullPolicy: never
command: ["true"]
`,
    );
    const { run, byAction } = await h.run(
      `name: never\nstages:\n  - name: only\n    actions:\n      - { name: task, component: ${component} }\n`,
    );
    const task = byAction.get('task')!;
    assert.equal(task.state, 'errored');
    assert.match(task.reason ?? '', /image localhost\/pilotage\/never-built:1 could not be pulled \(ErrImageNeverPull/);
    assert.doesNotMatch(task.reason ?? '', /still failing/);
    await gone(run.id);
  });

  test('a memory limit exceeded: failed, out of memory (OOMKilled)', async () => {
    const component = await h.write(
      'hog.component.yaml',
      `apiVersion: pilotage.dev/v1
kind: Component
name: hog
version: 1.0.0
image: ${IMAGE}
resources: { memory: 32Mi }
command: ["sh", "-c", "head -c 400m /dev/zero | tail"]
`,
    );
    const { run, byAction } = await h.run(
      `name: hog\nstages:\n  - name: only\n    actions:\n      - { name: task, component: ${component} }\n`,
    );
    const task = byAction.get('task')!;
    assert.equal(task.state, 'failed');
    assert.equal(task.reason, 'out of memory');
    await gone(run.id);
  });

  test('a timeout: the pod is deleted, the task run failed with reason timeout', async () => {
    const { run, byAction } = await h.run(`name: slow
stages:
  - name: only
    actions:
      - { name: task, image: ${IMAGE}, run: 'sleep 300', timeout: 2s }
`);
    const task = byAction.get('task')!;
    assert.equal(task.state, 'failed');
    assert.equal(task.reason, 'timeout');
    await gone(run.id);
  });

  test('cancel mid-run: the pod is deleted, the task run cancelled', async () => {
    const started = await h.start(`name: to-cancel
stages:
  - name: only
    actions:
      - { name: task, image: ${IMAGE}, run: 'echo started; sleep 300' }
`);
    await eventually(
      async () => {
        const [task] = await h.runtime.store.taskRuns.listByRun(started.id);
        const logs = task === undefined ? [] : await h.runtime.store.logs.read(task.id);
        return logs.some((l) => l.line === 'started') ? true : undefined;
      },
      30_000,
      'the component to run',
    );
    await h.runtime.engine.cancelRun(started.id);
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'cancelled');
    const [task] = await h.runtime.store.taskRuns.listByRun(run.id);
    assert.equal(task!.state, 'cancelled');
    await gone(run.id);
  });

  test('a pod deleted by someone else: errored with that reason', async () => {
    const started = await h.start(`name: deleted-pod
stages:
  - name: only
    actions:
      - { name: task, image: ${IMAGE}, run: 'echo started; sleep 300' }
`);
    const task = await eventually(
      async () => {
        const [found] = await h.runtime.store.taskRuns.listByRun(started.id);
        if (found?.ref === null || found === undefined) return undefined;
        const logs = await h.runtime.store.logs.read(found.id);
        return logs.some((l) => l.line === 'started') ? found : undefined;
      },
      30_000,
      'the component to run',
    );
    await cluster.core.deleteNamespacedPod({ name: task.ref!, namespace: ns.name });
    const run = await h.runtime.engine.waitForRun(started.id);
    const ended = (await h.runtime.store.taskRuns.get(task.id))!;
    assert.equal(ended.state, 'errored');
    assert.match(ended.reason ?? '', /the pod was deleted by someone else/);
    assert.equal(run.state, 'errored');
    await gone(run.id);
  });

  test('a pod field the API server refuses: errored with its own message', async () => {
    const component = await h.write(
      'bad-alias.component.yaml',
      `apiVersion: pilotage.dev/v1
kind: Component
name: bad-alias
version: 1.0.0
image: ${IMAGE}
command: ["true"]
kubernetes: { hostAliases: [ { ip: not-an-ip, hostnames: [ x ] } ] }
`,
    );
    const { byAction } = await h.run(
      `name: refused\nstages:\n  - name: only\n    actions:\n      - { name: task, component: ${component} }\n`,
    );
    const task = byAction.get('task')!;
    assert.equal(task.state, 'errored');
    assert.match(task.reason ?? '', /HTTP 422: Pod "pilotage-[a-z0-9]+" is invalid: spec\.hostAliases.*not-an-ip/);
  });

  test('a 410 Gone during a run: the watch lists again, and the run completes with its whole log', async () => {
    const started = await h.start(`name: gone-410
stages:
  - name: first
    actions:
      - name: waiter
        image: ${IMAGE}
        run: |
          echo before
          while [ ! -f "$CO_WORKSPACE/go" ]; do sleep 0.1; done
          echo after
  - name: second
    actions:
      - { name: next, image: ${IMAGE}, run: 'echo "[COUT] saw=$(cat "$CO_WORKSPACE/go")"' }
`);
    const workspace = join(ns.workspaceRoot, started.id);
    await eventually(
      async () => {
        const [task] = await h.runtime.store.taskRuns.listByRun(started.id);
        const logs = task === undefined ? [] : await h.runtime.store.logs.read(task.id);
        return logs.some((l) => l.line === 'before') ? true : undefined;
      },
      30_000,
      'the first action to run',
    );
    const relists = executor.relists;
    // the API server ends watches every 5-10 s; a resume from a compacted version is a 410
    await eventually(
      async () => {
        await cluster.core.createNamespacedConfigMap({
          namespace: ns.name,
          body: { metadata: { generateName: 'bump-' } },
        });
        await compactEtcd(cluster);
        return executor.relists > relists ? true : undefined;
      },
      60_000,
      'a 410 Gone and a re-list',
    );
    await writeFile(join(workspace, 'go'), 'yes');
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const tasks = await h.runtime.store.taskRuns.listByRun(run.id);
    const waiter = tasks.find((t) => t.action === 'waiter')!;
    const lines = (await h.runtime.store.logs.read(waiter.id)).map((l) => l.line);
    assert.deepEqual(lines, ['before', 'after']);
    assert.deepEqual(tasks.find((t) => t.action === 'next')!.output, { saw: 'yes' });
  });

  test('a log stream dropped mid-run is resumed: no line lost, none repeated', async () => {
    const started = await h.start(`name: dropped-log
stages:
  - name: first
    actions:
      - name: talker
        image: ${IMAGE}
        run: |
          i=0
          while [ ! -f "$CO_WORKSPACE/go" ]; do i=$((i+1)); echo "line $i"; sleep 0.05; done
          echo done >&2
  - name: second
    actions:
      - { name: next, image: ${IMAGE}, run: 'true' }
`);
    const workspace = join(ns.workspaceRoot, started.id);
    const task = await eventually(
      async () => {
        const [found] = await h.runtime.store.taskRuns.listByRun(started.id);
        const logs = found === undefined ? [] : await h.runtime.store.logs.read(found.id);
        return logs.length >= 10 ? found : undefined;
      },
      30_000,
      'ten lines',
    );
    const follows = executor.requests()['follow log'] ?? 0;
    await dropLogStreams(cluster);
    await eventually(
      async () => ((await h.runtime.store.logs.read(task.id, 0, 10_000)).length >= 60 ? true : undefined),
      30_000,
      'lines after the drop',
    );
    await writeFile(join(workspace, 'go'), '');
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const logs = await h.runtime.store.logs.read(task.id, 0, 100_000);
    const numbered = logs.filter((l) => l.line.startsWith('line ')).map((l) => Number(l.line.slice(5)));
    assert.deepEqual(
      numbered,
      numbered.map((_, i) => i + 1),
      'every line once, in order',
    );
    assert.deepEqual(logs.at(-1), { ...logs.at(-1)!, stream: 'stderr', line: 'done' });
    // the talker's log was asked for again after the drop (then the next action's, once)
    assert.ok((executor.requests()['follow log'] ?? 0) - follows >= 2, JSON.stringify(executor.requests()));
  });
});
