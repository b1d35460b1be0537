import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config/config.js';
import { createRuntime, type Runtime } from '../src/main.js';
import { compileWorkflow, createFileResolver } from '../src/plan-files/load.js';
import { eventually } from './support/harness.js';
import { TEST_IMAGES } from './support/images.js';
import { testCluster, testNamespace, type TestCluster, type TestNamespace } from './support/k8s.js';

// Replicas on Kubernetes: one engine lets go of a run mid-action, another engine on the same
// store (another engine id, the same PILOTAGE_KUBERNETES_OWNER) takes it over and re-attaches
// the pod. The real kube-apiserver; pods run by the podman-backed stand-in kubelet (a stand-in:
// no kubelet or scheduler can run here).
const found = await testCluster();
const skip = 'skip' in found ? found.skip : false;
const cluster = found as TestCluster;

describe('kubernetes executor handover between replicas (real API server, stand-in kubelet)', { skip }, () => {
  let ns: TestNamespace;
  let dir: string;
  const open: Runtime[] = [];

  before(async () => {
    if (skip) return;
    ns = await testNamespace(cluster, 'handover');
    dir = await mkdtemp(join(tmpdir(), 'pilotage-k8s-handover-'));
  });
  after(async () => {
    for (const runtime of open) await runtime.close({ cancel: true }).catch(() => undefined);
    await ns?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function replica(engineId: string): Promise<Runtime> {
    const config = loadConfig({
      env: {},
      home: dir,
      flags: {
        ...ns.config({ kubernetesOwner: ns.engineId, engineId }),
        db: join(dir, 'pilotage.db'),
        dataDir: dir,
        killGraceMs: 1000,
        stopGraceMs: 2000,
      },
    });
    const runtime = await createRuntime(config, {});
    open.push(runtime);
    return runtime;
  }

  test('a run let go mid-action: its pod is left running, the next engine re-attaches it (one attempt, whole log)', async () => {
    const first = await replica('replica-a');
    await first.engine.start();
    const yaml = `apiVersion: pilotage.dev/v1
kind: Workflow
name: handover
executor: kubernetes
stages:
  - name: only
    actions:
      - name: task
        image: ${TEST_IMAGES.base}
        run: 'echo before; sleep 8; echo after; echo "[COUT] done=yes"'
`;
    const plan = await compileWorkflow(yaml, join(dir, 'handover.yaml'), createFileResolver());
    const started = await first.engine.startRun(plan, {}, { trigger: { kind: 'manual', by: 'test' } });
    await eventually(
      async () => {
        const [task] = await first.store.taskRuns.listByRun(started.id);
        const logs = task === undefined ? [] : await first.store.logs.read(task.id);
        return logs.some((l) => l.line === 'before') ? true : undefined;
      },
      60_000,
      'the component to run',
    );
    const [before] = await first.store.taskRuns.listByRun(started.id);

    assert.equal(await first.engine.release('all'), 1, 'the run is let go');
    assert.deepEqual(await ns.pods(started.id), [before!.ref], 'the pod is left running for the next holder');
    await first.close({ cancel: false });
    open.splice(open.indexOf(first), 1);

    const second = await replica('replica-b');
    await second.engine.start();
    const run = await second.engine.waitForRun(started.id);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const tasks = await second.store.taskRuns.listByRun(run.id);
    assert.equal(tasks.length, 1, 'not run again');
    assert.equal(tasks[0]!.attempt, 1);
    assert.equal(tasks[0]!.ref, before!.ref, 'the same pod');
    assert.deepEqual(tasks[0]!.output, { done: 'yes' });
    const lines = (await second.store.logs.read(tasks[0]!.id)).map((l) => l.line);
    assert.equal(lines.filter((l) => l === 'before').length, 1, JSON.stringify(lines));
    assert.ok(lines.includes('after'), JSON.stringify(lines));
    await eventually(
      async () => ((await ns.pods(run.id)).length === 0 ? true : undefined),
      20_000,
      'the pod deleted once its end was recorded',
    );
  });
});
