import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../src/domain/ids.js';
import { createKubernetesExecutor, type KubernetesExecutor } from '../src/executor/kubernetes/kubernetes-executor.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { TEST_IMAGES } from './support/images.js';
import {
  STAND_IN_PROVISIONER,
  testCluster,
  testNamespace,
  type TestCluster,
  type TestNamespace,
} from './support/k8s.js';

// Copies between claims on the real kube-apiserver, made by short-lived copy pods (run by the
// podman-backed stand-in kubelet: a stand-in, no kubelet runs here): an action's cache.paths
// restored into and saved from a run's workspace claim through the claim holding the engine's
// cache folder, and a run's workspace made from a copy of an earlier run's kept one (copyFrom).
// On the stand-in every claim is a host folder, which is how the tests look into them.
const found = await testCluster();
const skip = 'skip' in found ? found.skip : false;
const cluster = found as TestCluster;
const IMAGE = TEST_IMAGES.base;
const CACHE_CLAIM = 'pilotage-cache';

describe(
  'copy pods: cache.paths and copyFrom on claims (real API server, stand-in kubelet)',
  { skip, concurrency: false },
  () => {
    let ns: TestNamespace;
    let executor: KubernetesExecutor;
    let h: Harness;
    let cacheDir: string;
    let cacheClass: string;

    before(async () => {
      if (skip) return;
      ns = await testNamespace(cluster, 'copies');
      // the engine's cache folder, held by a claim (as a Deployment would mount it): on the stand-in,
      // a claim whose volume is that very folder
      cacheDir = await mkdtemp(join(tmpdir(), 'pilotage-k8s-cache-'));
      cacheClass = `${ns.name}-cache`;
      await cluster.storage.createStorageClass({
        body: {
          metadata: { name: cacheClass },
          provisioner: STAND_IN_PROVISIONER,
          parameters: { hostPathTemplate: cacheDir },
          reclaimPolicy: 'Retain',
          volumeBindingMode: 'Immediate',
        },
      });
      await cluster.core.createNamespacedPersistentVolumeClaim({
        namespace: ns.name,
        body: {
          metadata: { name: CACHE_CLAIM },
          spec: {
            accessModes: ['ReadWriteMany'],
            storageClassName: cacheClass,
            resources: { requests: { storage: '1Gi' } },
          },
        },
      });
      executor = await createKubernetesExecutor(
        ns.executorOptions({ cacheClaim: { claim: CACHE_CLAIM, hostDir: cacheDir } }),
      );
      h = await createHarness({
        executor: 'kubernetes',
        keepWorkspace: false,
        config: ns.config({ executor: 'local', cacheDir }),
        extraExecutors: [executor],
      });
    });

    after(async () => {
      await h?.close();
      await ns?.close();
      await cluster?.storage?.deleteStorageClass({ name: cacheClass }).catch(() => undefined);
      if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    });

    const noPods = (runId: string) =>
      eventually(async () => ((await ns.pods(runId)).length === 0 ? true : undefined), 20_000, 'no pod of the run');

    test('cache.paths: saved from the claim after the first run, restored into the next run claim (a later stage reads it), no run of the action', async () => {
      const yaml = `name: cached-build
stages:
  - name: build
    actions:
      - name: build
        image: ${IMAGE}
        cache: { key: "v1", paths: [dist, notes.txt, never-made] }
        run: 'mkdir -p "$CO_WORKSPACE/dist/sub"; echo "built $CO_TASK_RUN_ID" > "$CO_WORKSPACE/dist/sub/out.txt"; echo note > "$CO_WORKSPACE/notes.txt"; echo "[COUT] by=$CO_TASK_RUN_ID"'
  - name: use
    actions:
      - name: reader
        image: ${IMAGE}
        run: 'echo "[COUT] out=$(cat "$CO_WORKSPACE/dist/sub/out.txt")"; echo "[COUT] note=$(cat "$CO_WORKSPACE/notes.txt")"'
`;
      const first = await h.run(yaml);
      assert.equal(first.run.state, 'succeeded', first.run.reason ?? '');
      const built = first.byAction.get('build')!;
      assert.equal(built.facts['cachedFrom'], undefined);
      assert.deepEqual(first.byAction.get('reader')!.output, { out: `built ${built.id}`, note: 'note' });
      // saved by a copy pod into the cache claim = the engine's cache folder; the missing path is left out
      const [entry] = (await h.runtime.store.cache.list({})).filter((e) => e.taskRunId === built.id);
      assert.ok(entry, 'an entry for the first build');
      assert.deepEqual([...entry.paths].sort(), ['dist', 'notes.txt']);
      assert.ok(entry.sizeBytes > 0);
      assert.equal(await readFile(join(cacheDir, entry.key, 'dist/sub/out.txt'), 'utf8'), `built ${built.id}\n`);

      const second = await h.run(yaml);
      assert.equal(second.run.state, 'succeeded', second.run.reason ?? '');
      const hit = second.byAction.get('build')!;
      assert.equal(hit.reason, `cached from run ${first.run.id}`);
      assert.equal(hit.ref, null, 'no pod for the cached action');
      assert.deepEqual(hit.output, { by: built.id });
      // the reader's pod saw the first build's files in this run's claim: a copy pod restored them
      assert.deepEqual(second.byAction.get('reader')!.output, { out: `built ${built.id}`, note: 'note' });
      await noPods(second.run.id);
      await eventually(
        async () => (JSON.stringify(await ns.claims()) === JSON.stringify([CACHE_CLAIM]) ? true : undefined),
        20_000,
        'only the cache claim left',
      );
    });

    test('cache.paths on a run of one action: it gets a claim (not an emptyDir) so that its files can be saved, then restored', async () => {
      const yaml = `name: one-cached
stages:
  - name: only
    actions:
      - { name: make, image: ${IMAGE}, cache: { key: "one", paths: [out] }, run: 'mkdir -p "$CO_WORKSPACE/out"; echo one > "$CO_WORKSPACE/out/f"' }
`;
      const first = await h.run(yaml);
      assert.equal(first.run.state, 'succeeded', first.run.reason ?? '');
      const [entry] = (await h.runtime.store.cache.list({})).filter((e) => e.runId === first.run.id);
      assert.deepEqual(entry?.paths, ['out']);
      assert.equal(await readFile(join(cacheDir, entry!.key, 'out/f'), 'utf8'), 'one\n');
      const second = await h.run(yaml);
      assert.equal(second.byAction.get('make')!.reason, `cached from run ${first.run.id}`);
    });

    test('copyFrom: a run workspace claim made from a copy of a kept one (all of it, the source unchanged); none to copy → empty', async () => {
      const source = newId();
      const sourceWs = await executor.prepareRun({ runId: source, workflow: 'copies', actions: 2 });
      assert.ok(sourceWs.ref);
      const sourceDir = join(ns.workspaceRoot, source);
      await eventually(async () => (existsSync(sourceDir) ? true : undefined), 20_000, 'the source claim bound');
      await mkdir(join(sourceDir, 'dist', 'deep'), { recursive: true });
      await writeFile(join(sourceDir, 'dist', 'deep', 'a.txt'), 'from the failed run\n');
      await writeFile(join(sourceDir, '.hidden'), 'dot file\n');
      await executor.releaseRun(source, { keep: true });

      const rerun = newId();
      const made = await executor.prepareRun({ runId: rerun, workflow: 'copies', actions: 1, copyFrom: source });
      assert.equal(made.copiedFrom, source);
      assert.ok(made.ref, 'a claim even for one action: it holds the copy');
      const rerunDir = join(ns.workspaceRoot, rerun);
      assert.equal(await readFile(join(rerunDir, 'dist', 'deep', 'a.txt'), 'utf8'), 'from the failed run\n');
      assert.equal(await readFile(join(rerunDir, '.hidden'), 'utf8'), 'dot file\n');
      assert.deepEqual((await readdir(sourceDir)).sort(), ['.hidden', 'dist'], 'the source is left as it was');
      // asked again (a resumed run): the workspace as it is, not copied again
      await writeFile(join(rerunDir, 'made-by-the-rerun'), 'x');
      const again = await executor.prepareRun({ runId: rerun, workflow: 'copies', actions: 1, copyFrom: source });
      assert.equal(again.copiedFrom, undefined);
      assert.ok(existsSync(join(rerunDir, 'made-by-the-rerun')));

      // a run with no claim on this executor: an empty workspace
      const empty = newId();
      const fresh = await executor.prepareRun({ runId: empty, workflow: 'copies', actions: 2, copyFrom: newId() });
      assert.equal(fresh.copiedFrom, undefined);
      await eventually(async () => (existsSync(join(ns.workspaceRoot, empty)) ? true : undefined), 20_000, 'bound');
      assert.deepEqual(await readdir(join(ns.workspaceRoot, empty)), []);

      for (const runId of [source, rerun, empty]) await executor.releaseRun(runId, { keep: false });
      await eventually(
        async () => ((await ns.claims()).filter((c) => c !== CACHE_CLAIM).length === 0 ? true : undefined),
        20_000,
        'the claims deleted',
      );
    });

    test('a rerun from the failed action (the engine passes copyFrom): its claim is a copy of the failed run kept claim', async () => {
      const yaml = `name: rerun-from-copy
stages:
  - name: build
    actions:
      - { name: writer, image: ${IMAGE}, run: 'echo "made by $CO_RUN_ID" > "$CO_WORKSPACE/artifact"' }
  - name: check
    actions:
      - { name: reader, image: ${IMAGE}, run: 'test "$CO_RUN_ID" != "$(cat "$CO_WORKSPACE/.first-run")" || exit 1; echo "[COUT] artifact=$(cat "$CO_WORKSPACE/artifact")"', retries: 0 }
`;
      // the first run fails at the reader: it marks its workspace as the first run's, then fails
      const failing = yaml.replace(
        'test "$CO_RUN_ID" != "$(cat "$CO_WORKSPACE/.first-run")" || exit 1;',
        'echo "$CO_RUN_ID" > "$CO_WORKSPACE/.first-run"; exit 1;',
      );
      const first = await h.run(failing);
      assert.equal(first.run.state, 'failed', first.run.reason ?? '');
      const claim = `pilotage-ws-${first.run.id.toLowerCase()}`;
      const kept = await cluster.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns.name });
      assert.equal(kept.metadata?.labels?.['pilotage.dev/kept'], 'true', 'the failed run workspace is kept');

      const plan = await h.plan(yaml);
      const started = await h.runtime.engine.startRun(
        plan,
        {},
        {
          trigger: { kind: 'manual', by: 'test' },
          workspaceFrom: first.run.id,
          reuse: new Map([['writer', first.byAction.get('writer')!]]),
        },
      );
      const rerun = await h.runtime.engine.waitForRun(started.id);
      assert.equal(rerun.state, 'succeeded', rerun.reason ?? '');
      const tasks = await h.runtime.store.taskRuns.listByRun(rerun.id);
      const reader = tasks.find((t) => t.action === 'reader')!;
      // the writer did not run again: the artifact is the first run's, copied into the rerun claim
      assert.deepEqual(reader.output, { artifact: `made by ${first.run.id}` });
      assert.equal(
        await readFile(join(ns.workspaceRoot, first.run.id, 'artifact'), 'utf8'),
        `made by ${first.run.id}\n`,
      );
      await executor.releaseRun(first.run.id, { keep: false });
    });

    test('recovery leaves a copy pod at work alone (another replica may own it) and lists it once it ended', async () => {
      const name = 'pilotage-copy-left-by-a-crash';
      await cluster.core.createNamespacedPod({
        namespace: ns.name,
        body: {
          metadata: {
            name,
            labels: {
              'pilotage.dev/managed': 'true',
              'pilotage.dev/engine-id': ns.engineId,
              'pilotage.dev/run-id': newId(),
              'pilotage.dev/role': 'copy',
            },
          },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'component', image: IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3'] }],
          },
        },
      });
      await eventually(
        async () => {
          const pod = await cluster.core.readNamespacedPod({ name, namespace: ns.name });
          return pod.status?.phase === 'Running' ? true : undefined;
        },
        30_000,
        'the copy pod running',
      );
      assert.ok(!(await executor.list()).some((ref) => ref.ref === name), 'not listed while it works');
      const ended = await eventually(
        async () => (await executor.list()).find((ref) => ref.ref === name),
        30_000,
        'listed once it ended',
      );
      assert.deepEqual(ended, { ref: name, runId: ended.runId, taskRunId: '', running: false });
      await executor.destroy(name);
    });

    test('copyFrom after a copy that never finished (a crash mid-copy): the claim is emptied and copied again', async () => {
      const source = newId();
      await executor.prepareRun({ runId: source, workflow: 'copies', actions: 2 });
      const sourceDir = join(ns.workspaceRoot, source);
      await eventually(async () => (existsSync(sourceDir) ? true : undefined), 20_000, 'the source claim bound');
      await writeFile(join(sourceDir, 'whole.txt'), 'whole\n');
      await executor.releaseRun(source, { keep: true });
      // what a crash leaves: the rerun claim made for the copy, half filled, never marked copied
      const rerun = newId();
      await cluster.core.createNamespacedPersistentVolumeClaim({
        namespace: ns.name,
        body: {
          metadata: {
            name: `pilotage-ws-${rerun.toLowerCase()}`,
            labels: {
              'pilotage.dev/managed': 'true',
              'pilotage.dev/engine-id': ns.engineId,
              'pilotage.dev/run-id': rerun,
            },
            annotations: { 'pilotage.dev/copy-from': source },
          },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: ns.storageClass,
            resources: { requests: { storage: '1Gi' } },
          },
        },
      });
      const rerunDir = join(ns.workspaceRoot, rerun);
      await eventually(async () => (existsSync(rerunDir) ? true : undefined), 20_000, 'the half claim bound');
      await writeFile(join(rerunDir, 'half-copied-junk'), 'x');
      const made = await executor.prepareRun({ runId: rerun, workflow: 'copies', actions: 2, copyFrom: source });
      assert.equal(made.copiedFrom, source);
      assert.deepEqual(await readdir(rerunDir), ['whole.txt']);
      const claim = await cluster.core.readNamespacedPersistentVolumeClaim({
        name: `pilotage-ws-${rerun.toLowerCase()}`,
        namespace: ns.name,
      });
      assert.equal(claim.metadata?.annotations?.['pilotage.dev/copied'], 'true');
      for (const runId of [source, rerun]) await executor.releaseRun(runId, { keep: false });
    });
  },
);
