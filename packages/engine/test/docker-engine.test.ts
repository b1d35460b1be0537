import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { loadConfig } from '../src/config/config.js';
import { ConfigError, ExecutorError } from '../src/domain/errors.js';
import { newId } from '../src/domain/ids.js';
import { configuredExecutors } from '../src/executor/configured-executors.js';
import { LABELS } from '../src/executor/docker/labels.js';
import { freeLoopbackPort } from '../src/executor/shared/free-port.js';
import { createRuntime } from '../src/main.js';
import { createHarness, eventually } from './support/harness.js';
import { assertRecoveredRun, inlineAction, recoveryStages } from './support/recovered-run.js';
import type { Harness } from './support/harness.js';
import { ensureTestImages, TEST_IMAGES } from './support/images.js';
import { leftoversOfRun, podmanSkipReason, removeEngineLeftovers, startPodmanService } from './support/podman.js';
import type { PodmanService } from './support/podman.js';

const BASE = TEST_IMAGES.base;
const MISSING = 'localhost/pilotage/missing-image:1';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'packages/engine/src/cli/main.ts');

/** Containers and volumes labelled with an engine id. */
async function engineLeftovers(docker: Docker, engineId: string): Promise<string[]> {
  const label = [`${LABELS.engineId}=${engineId}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  return [...containers.map((c) => c.Names[0] ?? c.Id), ...volumes.map((v) => v.Name)];
}

describe('the engine on the docker executor (Podman)', { skip: podmanSkipReason(), concurrency: false }, () => {
  const engineId = `test-engine-${newId().toLowerCase()}`;
  let podman: PodmanService;
  let docker: Docker;
  let h: Harness;

  before(async () => {
    podman = await startPodmanService();
    docker = new Docker({ socketPath: podman.socketPath });
    await ensureTestImages(docker, ['base']);
    h = await createHarness({
      executor: 'docker',
      config: { executor: 'docker', dockerHost: podman.dockerHost, engineId },
      leftovers: (runId) => leftoversOfRun(docker, runId),
    });
  });

  after(async () => {
    await h?.close();
    if (docker !== undefined) await removeEngineLeftovers(docker, engineId);
    await podman?.stop();
  });

  test('the workspace is shared by two actions of two stages; the image digest is on the task run', async () => {
    const { run, byAction } = await h.run(`name: shared-workspace
stages:
  - name: produce
    actions:
${inlineAction(BASE, 'writer', 'echo "built in stage one" > "$CO_WORKSPACE/artifact.txt"')}
  - name: consume
    actions:
${inlineAction(BASE, 'reader', 'echo "[COUT] artifact=$(cat "$CO_WORKSPACE/artifact.txt")"\necho "[COUT] pid1=$(cat /proc/1/comm)"')}
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    const reader = byAction.get('reader')!;
    assert.deepEqual(reader.output, { artifact: 'built in stage one', pid1: 'sh' }, 'it ran as PID 1 of a container');
    for (const task of [byAction.get('writer')!, reader]) {
      assert.equal(task.executor, 'docker');
      assert.match(task.ref ?? '', /^pilotage-/);
      assert.equal(task.facts['image'], BASE);
      assert.match(task.facts['imageDigest'] ?? '', /^sha256:[0-9a-f]{64}$/);
    }
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('a missing image errors the task run with a reason naming the image', async () => {
    const { run, byAction } = await h.run(`name: missing-image
stages:
  - name: only
    actions:
      - name: task
        image: ${MISSING}
        run: echo never
`);
    assert.equal(run.state, 'errored');
    const task = byAction.get('task')!;
    assert.equal(task.state, 'errored');
    assert.match(task.reason ?? '', new RegExp(`could not start: cannot pull image ${MISSING}`));
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('pullPolicy never: a missing image is not pulled, and the reason says so', async () => {
    const { byAction } = await h.runComponent(
      'pull-never',
      `apiVersion: pilotage.dev/v1
kind: Component
name: never-pulled
version: 1.0.0
image: ${MISSING}
pullPolicy: never
command: ["true"]
`,
    );
    const task = byAction.get('task')!;
    assert.equal(task.state, 'errored');
    assert.equal(task.reason, `could not start: image ${MISSING} not found locally and pullPolicy is never`);

    // the engine-wide policy from the configuration (PILOTAGE_DOCKER_PULL_POLICY) applies as well
    const strict = await createHarness({
      executor: 'docker',
      config: { executor: 'docker', dockerHost: podman.dockerHost, engineId, dockerPullPolicy: 'never' },
    });
    try {
      const { byAction: tasks } = await strict.run(
        `name: pull-never-config\nstages:\n  - name: only\n    actions:\n      - name: task\n        image: ${MISSING}\n        run: "true"\n`,
      );
      assert.match(tasks.get('task')!.reason ?? '', /not found locally and pullPolicy is never/);
    } finally {
      await strict.close();
    }
  });

  test('a declared volume starts with its initial data', async () => {
    const { run, byAction } = await h.runComponent(
      'volume',
      `apiVersion: pilotage.dev/v1
kind: Component
name: with-volume
version: 1.0.0
image: ${BASE}
volumes:
  - name: settings
    mountPath: /settings
    readOnly: true
    initialData:
      app.conf: "level=debug"
      nested/limits.txt: "max=3"
command: ["sh", "-c", "echo \\"[COUT] conf=$(cat /settings/app.conf)\\"; echo \\"[COUT] limits=$(cat /settings/nested/limits.txt)\\""]
`,
    );
    const task = byAction.get('task')!;
    assert.equal(task.state, 'succeeded', task.reason ?? '');
    assert.deepEqual(task.output, { conf: 'level=debug', limits: 'max=3' });
    assert.deepEqual(await h.leftovers(run.id), [], 'the volume is removed with its container');
  });

  test('a timeout stops the container (SIGTERM, then SIGKILL after the grace) and removes it', async () => {
    const started = h.start(`name: timeout
stages:
  - name: only
    actions:
${inlineAction(BASE, 'hang', 'echo started\nsleep 300', '        timeout: 2s\n')}
`);
    const runId = (await started).id;
    const running = await eventually(
      async () => {
        const found = await docker.listContainers({ filters: { label: [`${LABELS.runId}=${runId}`] } });
        return found.length > 0 ? found : undefined;
      },
      30_000,
      'the container to run',
    );
    assert.equal(running[0]!.State, 'running');
    const run = await h.runtime.engine.waitForRun(runId);
    const [task] = await h.runtime.store.taskRuns.listByRun(run.id);
    assert.equal(task!.state, 'failed');
    assert.equal(task!.reason, 'timeout');
    assert.ok(task!.endedAt! - task!.startedAt! < 15_000, 'stopped within the grace period');
    assert.deepEqual(await h.leftovers(run.id), []);
  });

  test('per-workflow and per-action executor: an action says local inside a docker workflow', async () => {
    const { run, byAction } = await h.run(`name: mixed
stages:
  - name: only
    actions:
${inlineAction(BASE, 'in-container', 'echo "[COUT] pid1=$(cat /proc/1/comm)"')}      - name: on-host
        executor: "local"
        run: echo "[COUT] here=yes"
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.equal(byAction.get('in-container')!.executor, 'docker');
    assert.deepEqual(byAction.get('in-container')!.output, { pid1: 'sh' });
    const local = byAction.get('on-host')!;
    assert.equal(local.executor, 'local');
    assert.match(local.ref ?? '', /^\d+$/, 'a process id');
    assert.deepEqual(local.output, { here: 'yes' });

    // an engine whose default is local runs a workflow that says `executor: docker` in containers
    const localFirst = await createHarness({ executor: 'local', config: { dockerHost: podman.dockerHost, engineId } });
    try {
      assert.equal(localFirst.runtime.executorName, 'local');
      const other = await localFirst.run(`name: wants-docker
executor: docker
stages:
  - name: only
    actions:
${inlineAction(BASE, 'task', 'echo "[COUT] pid1=$(cat /proc/1/comm)"')}`);
      const task = other.byAction.get('task')!;
      assert.equal(task.state, 'succeeded', task.reason ?? '');
      assert.equal(task.executor, 'docker');
      assert.deepEqual(task.output, { pid1: 'sh' });
      assert.match(task.facts['imageDigest'] ?? '', /^sha256:/);
    } finally {
      await localFirst.close();
    }
  });

  test('executor selection: docker needs an endpoint that answers; auto picks docker or local and says which', async () => {
    const config = (flags: Record<string, string>) =>
      loadConfig({ env: {}, home: tmpdir(), flags: { db: ':memory:', ...flags } });
    const dead = 'unix:///nonexistent/pilotage/docker.sock';
    await assert.rejects(
      configuredExecutors(config({ executor: 'docker', dockerHost: dead })),
      (error: unknown) => error instanceof ConfigError && error.message.includes(`${dead} (DOCKER_HOST)`),
    );

    const said: string[] = [];
    const found = await configuredExecutors(config({ executor: 'auto', dockerHost: podman.dockerHost }), {
      info: (message) => said.push(message),
    });
    assert.equal(found.defaultName, 'docker');
    assert.deepEqual(
      found.executors.map((e) => e.name),
      ['local', 'docker', 'kubernetes'],
    );
    assert.deepEqual(said, [`executor auto: using docker at ${podman.dockerHost} (DOCKER_HOST)`]);
    await Promise.all(found.executors.map((e) => e.close()));

    said.length = 0;
    const none = await configuredExecutors(config({ executor: 'auto', dockerHost: dead }), {
      info: (message) => said.push(message),
    });
    assert.equal(none.defaultName, 'local');
    assert.match(
      said[0] ?? '',
      /^executor auto: no Docker Engine API answered \(tried .*nonexistent.*\); using local$/,
    );
    // docker stays available on demand, and says why it cannot start
    const docker = none.executors.find((e) => e.name === 'docker')!;
    assert.deepEqual(await docker.list(), []);
    assert.equal(
      docker.callbackBaseUrl('http://127.0.0.1:7700'),
      'http://127.0.0.1:7700',
      'host network, local socket',
    );
    const component = { name: 'n', version: '1.0.0', strict: false, env: {}, volumes: [], image: BASE };
    await assert.rejects(
      docker.start(
        {
          ...{ runId: 'R', taskRunId: 'T', attempt: 1, workflow: 'w', stage: 's', action: 'a', component, env: {} },
          ...{ workspace: { mountPath: tmpdir(), hostDir: tmpdir() }, timeoutMs: 1000 },
        },
        () => undefined,
      ),
      (error: unknown) =>
        error instanceof ExecutorError &&
        error.message.startsWith(`the docker executor is not available: no Docker Engine API answered at ${dead}`),
    );
    await Promise.all(none.executors.map((e) => e.close()));
  });

  test('engine killed (kill -9) mid-run and restarted: re-attached or recorded lost, the run completes, nothing remains', async () => {
    const crashEngine = `test-crash-${newId().toLowerCase()}`;
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-crash-'));
    const port = await freeLoopbackPort();
    let child: ChildProcess | undefined;
    try {
      const workflow = join(dir, 'crash.yaml');
      await writeFile(
        workflow,
        `apiVersion: pilotage.dev/v1
kind: Workflow
name: crash-recovery
stages:
${recoveryStages(BASE)}`,
      );
      const settings = {
        db: join(dir, 'pilotage.db'),
        dataDir: dir,
        engineId: crashEngine,
        dockerHost: podman.dockerHost,
        callbackPort: port,
        killGraceMs: 1000,
        keepWorkspace: true,
      };

      // 1. a real `pilotage run`, killed with SIGKILL while both actions run
      let stdout = '';
      let stderr = '';
      child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', workflow, '--plain', '--executor', 'docker'], {
        cwd: ROOT,
        env: {
          ...process.env,
          PILOTAGE_DB: settings.db,
          PILOTAGE_DATA_DIR: dir,
          PILOTAGE_ENGINE_ID: crashEngine,
          DOCKER_HOST: podman.dockerHost,
          PILOTAGE_CALLBACK_PORT: String(port),
          PILOTAGE_KILL_GRACE: '1s',
          PILOTAGE_KEEP_WORKSPACE: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const workspaces = join(dir, 'workspaces');
      const workspace = await eventually(
        async () => {
          const [runId] = await readdir(workspaces).catch(() => []);
          if (runId === undefined) return undefined;
          const ws = join(workspaces, runId);
          const ready =
            existsSync(join(ws, 'survivor-started')) &&
            existsSync(join(ws, 'vanished-started')) &&
            /survivor.* running/.test(stdout) &&
            /vanished.* running/.test(stdout);
          return ready ? { runId, ws } : undefined;
        },
        60_000,
        'both actions to run',
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      });
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      // 2. while the engine is down: one container vanishes, an unknown one appears, and the
      //    survivor is told to finish (its callbacks fail until the engine is back, and it retries)
      const vanished = await docker.listContainers({
        filters: { label: [`${LABELS.engineId}=${crashEngine}`, `${LABELS.action}=vanished`] },
      });
      assert.equal(vanished.length, 1, 'the vanished action had a container');
      await docker.getContainer(vanished[0]!.Id).remove({ force: true });
      const orphan = await docker.createContainer({
        Image: BASE,
        name: `pilotage-orphan-${crashEngine}`,
        Cmd: ['sleep', '300'],
        Labels: {
          [LABELS.managed]: 'true',
          [LABELS.engineId]: crashEngine,
          [LABELS.runId]: 'NO-SUCH-RUN',
          [LABELS.taskRunId]: 'NO-SUCH-TASK-RUN',
        },
        HostConfig: { NetworkMode: 'none' },
      });
      await orphan.start();
      await writeFile(join(workspace.ws, 'go'), '');
      await new Promise((resolve) => setTimeout(resolve, 1000));

      // 3. a new engine on the same store, engine id and callback port recovers
      const runtime = await createRuntime(
        loadConfig({ env: {}, home: dir, flags: { ...settings, executor: 'docker' } }),
      );
      try {
        await assertRecoveredRun(runtime, workspace.runId);

        assert.deepEqual(
          await eventually(
            async () => {
              const left = await engineLeftovers(docker, crashEngine);
              return left.length === 0 ? left : undefined;
            },
            20_000,
            'no container or volume of the crashed engine',
          ),
          [],
        );
      } finally {
        await runtime.close({ cancel: true });
      }
    } finally {
      if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await removeEngineLeftovers(docker, crashEngine);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
