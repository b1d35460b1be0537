import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config/config.js';
import { createRuntime } from '../src/main.js';
import { eventually } from './support/harness.js';
import { assertRecoveredRun, inlineAction, recoveryStages } from './support/recovered-run.js';
import { TEST_IMAGES } from './support/images.js';
import { testCluster, testNamespace, type TestCluster, type TestNamespace } from './support/k8s.js';

// Recovery on Kubernetes: an engine killed with SIGKILL mid-run, pods changed while it is down,
// a new engine on the same store. The real kube-apiserver, pods run by the podman-backed
// stand-in kubelet (a stand-in: no kubelet or scheduler can run here).
const found = await testCluster();
const skip = 'skip' in found ? found.skip : false;
const cluster = found as TestCluster;
const BASE = TEST_IMAGES.base;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'packages/engine/src/cli/main.ts');

describe('kubernetes executor recovery (real API server, stand-in kubelet)', { skip }, () => {
  let ns: TestNamespace;
  before(async () => {
    if (skip) return;
    ns = await testNamespace(cluster, 'recovery');
  });
  after(async () => {
    await ns?.close();
  });

  test('engine killed (kill -9) mid-run and restarted: re-attached or recorded lost and retried, strays deleted, no pod left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-k8s-crash-'));
    let child: ChildProcess | undefined;
    try {
      const workflow = join(dir, 'crash.yaml');
      await writeFile(
        workflow,
        `apiVersion: pilotage.dev/v1
kind: Workflow
name: crash-recovery
stages:
  - name: early
    actions:
${inlineAction(BASE, 'early', 'echo done early')}${recoveryStages(BASE)}`,
      );
      const settings = ns.config({ db: join(dir, 'pilotage.db'), dataDir: dir, killGraceMs: 1000 });

      // 1. a real `pilotage run`, killed with SIGKILL while both actions of stage `work` run
      let stdout = '';
      let stderr = '';
      child = spawn(
        process.execPath,
        ['--import', 'tsx', CLI, 'run', workflow, '--plain', '--executor', 'kubernetes'],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            PILOTAGE_DB: String(settings['db']),
            PILOTAGE_DATA_DIR: dir,
            PILOTAGE_ENGINE_ID: ns.engineId,
            KUBECONFIG: cluster.kubeconfig,
            PILOTAGE_KUBERNETES_NAMESPACE: ns.name,
            PILOTAGE_KUBERNETES_STORAGE_CLASS: ns.storageClass,
            PILOTAGE_ADVERTISE_URL: ns.callbackUrl,
            PILOTAGE_CALLBACK_PORT: String(ns.callbackPort),
            PILOTAGE_KILL_GRACE: '1s',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const workspace = await eventually(
        async () => {
          const [runId] = await readdir(ns.workspaceRoot).catch(() => []);
          if (runId === undefined) return undefined;
          const ws = join(ns.workspaceRoot, runId);
          const ready =
            existsSync(join(ws, 'survivor-started')) &&
            existsSync(join(ws, 'vanished-started')) &&
            /survivor.* running/.test(stdout) &&
            /vanished.* running/.test(stdout);
          return ready ? { runId, ws } : undefined;
        },
        90_000,
        'both actions to run',
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      });
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      // 2. while the engine is down: one pod is deleted (gone), a pod of an ended task run and
      //    a pod of no task run appear, and the survivor is told to finish (its callbacks fail
      //    until the engine is back, and it retries)
      const podOf = async (action: string) =>
        (
          await cluster.core.listNamespacedPod({
            namespace: ns.name,
            labelSelector: `pilotage.dev/engine-id=${ns.engineId},pilotage.dev/action=${action}`,
          })
        ).items;
      const [vanished] = await podOf('vanished');
      assert.ok(vanished, 'the vanished action had a pod');
      await cluster.core.deleteNamespacedPod({
        name: vanished.metadata!.name!,
        namespace: ns.name,
        gracePeriodSeconds: 0,
      });
      const stray = (name: string, taskRunId: string) =>
        cluster.core.createNamespacedPod({
          namespace: ns.name,
          body: {
            metadata: {
              name,
              labels: {
                'pilotage.dev/managed': 'true',
                'pilotage.dev/engine-id': ns.engineId,
                'pilotage.dev/run-id': workspace.runId,
                'pilotage.dev/task-run-id': taskRunId,
              },
            },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'component', image: BASE, imagePullPolicy: 'Never', command: ['sleep', '300'] }],
            },
          },
        });
      const probe = await createRuntime(loadConfig({ env: {}, home: dir, flags: { ...settings, executor: 'local' } }));
      const early = (await probe.store.taskRuns.listByRun(workspace.runId)).find((t) => t.action === 'early')!;
      await probe.close();
      assert.equal(early.state, 'succeeded');
      await stray('pilotage-stray-ended', early.id);
      await stray('pilotage-stray-unknown', 'NO-SUCH-TASK-RUN');
      await writeFile(join(workspace.ws, 'go'), '');

      // 3. a new engine on the same store, engine id and callback port recovers
      const runtime = await createRuntime(loadConfig({ env: {}, home: dir, flags: settings }));
      try {
        await assertRecoveredRun(runtime, workspace.runId);

        // nothing of the crashed engine is left: pods (the strays too) and the run's claim
        await eventually(
          async () => ((await ns.pods()).length === 0 && (await ns.claims()).length === 0 ? true : undefined),
          30_000,
          'no pod and no claim left',
        );
      } finally {
        await runtime.close({ cancel: true });
      }
    } finally {
      if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
