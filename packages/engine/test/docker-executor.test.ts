import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { ConfigError, ExecutorError } from '../src/domain/errors.js';
import { newId } from '../src/domain/ids.js';
import { buildComponentImage } from '../src/executor/docker/build-image.js';
import { CONTAINER_WORKSPACE_MOUNT, toContainerPlan } from '../src/executor/docker/convert.js';
import { detectDockerEndpoint } from '../src/executor/docker/docker-connection.js';
import { createDockerExecutor } from '../src/executor/docker/docker-executor.js';
import type { DockerExecutor } from '../src/executor/docker/docker-executor.js';
import { LABELS } from '../src/executor/docker/labels.js';
import type { LogLine, TaskSpec } from '../src/executor/executor.js';
import type { ResolvedComponent } from '../src/plan/types.js';
import { ensureTestImages, TEST_IMAGES } from './support/images.js';
import { podmanSkipReason, startPodmanService } from './support/podman.js';
import type { PodmanService } from './support/podman.js';

const BASE = TEST_IMAGES.base;

/** A log collector: every line, and the lines per stream. */
function logs(): { onLog: (line: LogLine) => void; all: LogLine[]; of(stream: LogLine['stream']): string[] } {
  const all: LogLine[] = [];
  return {
    all,
    onLog: (line) => all.push(line),
    of: (stream) => all.filter((line) => line.stream === stream).map((line) => line.line),
  };
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('docker executor on Podman (Docker Engine API)', { skip: podmanSkipReason() }, () => {
  const engineId = `test-${newId().toLowerCase()}`;
  const runId = newId();
  let podman: PodmanService;
  let docker: Docker;
  let executor: DockerExecutor;
  let workspaceDir: string;
  const builtImages: string[] = [];

  function spec(component: Partial<ResolvedComponent>, env: Record<string, string> = {}): TaskSpec {
    return {
      runId,
      taskRunId: newId(),
      attempt: 1,
      workflow: 'wf',
      stage: 'stage',
      action: 'act',
      component: { name: 'test', version: '0.0.0', strict: false, env: {}, volumes: [], image: BASE, ...component },
      env,
      workspace: { hostDir: workspaceDir, mountPath: CONTAINER_WORKSPACE_MOUNT },
      timeoutMs: 60_000,
    };
  }

  const sh = (script: string, more: Partial<ResolvedComponent> = {}): Partial<ResolvedComponent> => ({
    command: ['sh', '-c', script],
    ...more,
  });

  before(async () => {
    podman = await startPodmanService();
    docker = new Docker({ socketPath: podman.socketPath });
    await ensureTestImages(docker, ['base']);
    executor = createDockerExecutor({ dockerHost: podman.dockerHost, engineId, killGraceMs: 2000 });
    workspaceDir = await mkdtemp(join(tmpdir(), 'pilotage-docker-ws-'));
  });

  after(async () => {
    // Whatever a failed test left is removed, so that the runtime stays clean for the next run.
    if (docker !== undefined) {
      const label = [`${LABELS.engineId}=${engineId}`];
      for (const entry of await docker.listContainers({ all: true, filters: { label } })) {
        await docker.getContainer(entry.Id).remove({ force: true, v: true });
      }
      for (const volume of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) {
        await docker.getVolume(volume.Name).remove();
      }
      for (const image of builtImages)
        await docker
          .getImage(image)
          .remove({ force: true })
          .catch(() => undefined);
    }
    await executor?.close();
    await podman?.stop();
    if (workspaceDir !== undefined) await rm(workspaceDir, { recursive: true, force: true });
  });

  test('stdout and stderr are demultiplexed line by line, in order, and the exit code is reported', async () => {
    const log = logs();
    const handle = await executor.start(
      spec(sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf 'no newline'; exit 3")),
      log.onLog,
    );
    assert.match(handle.ref, /^pilotage-/);
    const exit = await handle.wait();
    assert.deepEqual(exit, { exitCode: 3 });
    assert.deepEqual(log.of('stdout'), ['out1', 'out2', 'no newline']);
    assert.deepEqual(log.of('stderr'), ['err1', 'err2']);
    assert.equal(handle.facts['image'], BASE);
    assert.match(handle.facts['imageDigest'] ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(await handle.wait(), exit, 'wait() resolves once, with the same answer');
    await executor.destroy(handle.ref);
    await executor.destroy(handle.ref);
    assert.equal(
      (await executor.list()).find((ref) => ref.ref === handle.ref),
      undefined,
    );
  });

  test('the environment, working dir, labels and limits reach the container', async () => {
    const log = logs();
    const task = spec(
      sh('echo "$FOO|$FROM_COMPONENT|$CO_WORKSPACE|$(pwd)|$(id -u)"', {
        env: { FROM_COMPONENT: 'c' },
        user: '65534',
        resources: { memory: '64Mi', cpu: '500m' },
      }),
      { FOO: 'bar baz', CO_RUN_ID: runId },
    );
    const handle = await executor.start(task, log.onLog);
    assert.deepEqual(await handle.wait(), { exitCode: 0 });
    assert.deepEqual(log.of('stdout'), ['bar baz|c|/workspace|/workspace|65534']);
    const info = await docker.getContainer(handle.ref).inspect();
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.NanoCpus, 500_000_000);
    assert.equal(info.Config.Labels?.[LABELS.taskRunId], task.taskRunId);
    assert.equal(info.Config.Labels?.[LABELS.runId], runId);
    assert.equal(handle.facts['warnings'], undefined);
    await executor.destroy(handle.ref);
  });

  test('the workspace is shared: a file written by one container is read by the next', async () => {
    const writer = await executor.start(spec(sh('echo shared-data > /workspace/note.txt')), () => undefined);
    assert.deepEqual(await writer.wait(), { exitCode: 0 });
    await executor.destroy(writer.ref);
    assert.equal(await readFile(join(workspaceDir, 'note.txt'), 'utf8'), 'shared-data\n');

    const log = logs();
    const reader = await executor.start(spec(sh('cat note.txt')), log.onLog);
    assert.deepEqual(await reader.wait(), { exitCode: 0 });
    assert.deepEqual(log.of('stdout'), ['shared-data']);
    await executor.destroy(reader.ref);
  });

  test('declared volumes are per task, seeded with their initial data, read-only when asked', async () => {
    const log = logs();
    const handle = await executor.start(
      spec(
        sh(
          'cat /config/app.conf /config/nested/deep.txt; touch /config/x 2>/dev/null && echo writable || echo read-only',
          {
            volumes: [
              {
                name: 'config',
                mountPath: '/config',
                readOnly: true,
                initialData: { 'app.conf': 'level=debug\n', 'nested/deep.txt': 'deep\n' },
              },
            ],
          },
        ),
      ),
      log.onLog,
    );
    assert.deepEqual(await handle.wait(), { exitCode: 0 });
    assert.deepEqual(log.of('stdout'), ['level=debug', 'deep', 'read-only']);
    const owned = { filters: { label: [`${LABELS.owner}=${handle.ref}`] } };
    assert.equal((await docker.listVolumes(owned)).Volumes?.length, 1);
    await executor.destroy(handle.ref);
    assert.equal((await docker.listVolumes(owned)).Volumes?.length ?? 0, 0);
  });

  test('a missing image with pullPolicy never is an ExecutorError naming the image', async () => {
    const image = 'localhost/pilotage/does-not-exist:1';
    await assert.rejects(
      executor.start(spec(sh('true', { image, pullPolicy: 'never' })), () => undefined),
      (error: unknown) =>
        error instanceof ExecutorError && error.message === `image ${image} not found locally and pullPolicy is never`,
    );
  });

  test('a failed pull is an ExecutorError naming the image; registry credentials are asked per image', async () => {
    const image = 'registry.invalid/pilotage/nope:1';
    const asked: string[] = [];
    const withAuth = createDockerExecutor({
      dockerHost: podman.dockerHost,
      engineId,
      registryAuth: (name) => {
        asked.push(name);
        return { username: 'robot', password: 'secret', serveraddress: 'registry.invalid' };
      },
    });
    try {
      await assert.rejects(
        withAuth.start(spec(sh('true', { image })), () => undefined),
        (error: unknown) => error instanceof ExecutorError && error.message.startsWith(`cannot pull image ${image}:`),
      );
      assert.deepEqual(asked, [image]);
    } finally {
      await withAuth.close();
    }
  });

  test('a command that cannot run fails the start and leaves nothing behind', async () => {
    const task = spec({ command: ['/no/such/program'] });
    await assert.rejects(
      executor.start(task, () => undefined),
      (error: unknown) => error instanceof ExecutorError && /cannot start component test@0\.0\.0/.test(error.message),
    );
    assert.equal(
      (await executor.list()).find((ref) => ref.taskRunId === task.taskRunId),
      undefined,
    );
  });

  test('kill stops a container that ignores SIGTERM after the grace, and is repeatable', async () => {
    const handle = await executor.start(spec(sh('sleep 1000')), () => undefined);
    const started = Date.now();
    await Promise.all([handle.kill('cancelled', 1000), handle.kill('timeout', 1000)]);
    const exit = await handle.wait();
    assert.ok(Date.now() - started < 8000, `stopped in ${Date.now() - started} ms`);
    assert.equal(exit.exitCode, null);
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(exit.reason, 'cancelled');
    assert.equal((await docker.getContainer(handle.ref).inspect()).State.Running, false);
    await handle.kill('again');
    await executor.destroy(handle.ref);
    await handle.kill('after destroy');
  });

  test('kill lets a component that handles SIGTERM end politely within the grace', async () => {
    const log = logs();
    const handle = await executor.start(
      spec(sh('trap "echo got TERM; exit 0" TERM; echo ready; sleep 1000 & wait')),
      log.onLog,
    );
    for (let i = 0; i < 50 && !log.of('stdout').includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await handle.kill('timeout', 10_000);
    assert.ok(Date.now() - started < 5000, 'it ended well before the grace');
    assert.deepEqual(await handle.wait(), { exitCode: 0, reason: 'timeout' });
    assert.deepEqual(log.of('stdout'), ['ready', 'got TERM']);
    await executor.destroy(handle.ref);
  });

  test('after an engine restart, list() finds the container and attach() re-acquires it', async () => {
    const first = createDockerExecutor({ dockerHost: podman.dockerHost, engineId, killGraceMs: 1000 });
    const task = spec(sh('echo before; sleep 2; echo after; exit 5'));
    const original = await first.start(task, () => undefined);
    await first.close();

    const restarted = createDockerExecutor({ dockerHost: podman.dockerHost, engineId, killGraceMs: 1000 });
    const stranger = createDockerExecutor({ dockerHost: podman.dockerHost, engineId: `${engineId}-other` });
    try {
      const found = (await restarted.list()).find((ref) => ref.ref === original.ref);
      assert.deepEqual(found, { ref: original.ref, runId, taskRunId: task.taskRunId, running: true });
      assert.equal(
        (await stranger.list()).find((ref) => ref.ref === original.ref),
        undefined,
      );
      assert.equal(await stranger.attach(original.ref, () => undefined), undefined, 'not its container');
      assert.equal(await restarted.attach('pilotage-no-such-task', () => undefined), undefined);

      const log = logs();
      const handle = await restarted.attach(original.ref, log.onLog);
      assert.ok(handle !== undefined);
      assert.equal(handle.ref, original.ref);
      assert.deepEqual(await handle.wait(), { exitCode: 5 });
      assert.ok(log.of('stdout').includes('after'), `lines after the attach are delivered: ${log.of('stdout')}`);

      const replay = logs();
      const again = await restarted.attach(original.ref, replay.onLog, 0);
      assert.deepEqual(await again?.wait(), { exitCode: 5 });
      assert.deepEqual(replay.of('stdout'), ['before', 'after'], 'sinceMs 0 replays the whole log');
      assert.deepEqual(
        (await restarted.list()).find((ref) => ref.ref === original.ref),
        { ref: original.ref, runId, taskRunId: task.taskRunId, running: false },
      );

      await restarted.destroy(original.ref);
      assert.equal(
        (await restarted.list()).find((ref) => ref.ref === original.ref),
        undefined,
      );
    } finally {
      await restarted.close();
      await stranger.close();
    }
  });

  test('on the host network, containers reach a callback server on 127.0.0.1 and the engine reaches their endpoint', async () => {
    const received: Array<{ url: string; body: string; type: string }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body, type: req.headers['content-type'] ?? '' });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const loopback = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const base = executor.callbackBaseUrl(loopback, 'https://pilotage.example.com');
      assert.equal(base, loopback);
      const log = logs();
      const handle = await executor.start(
        spec(
          sh(
            `wget -q -O - --header='Content-Type: application/json' --post-data='{"status":"success"}' "$CO_TASK_RESULT"`,
          ),
          { CO_TASK_RESULT: `${base}/v1/callbacks/token123/task-result` },
        ),
        log.onLog,
      );
      assert.deepEqual(await handle.wait(), { exitCode: 0 });
      assert.deepEqual(log.of('stdout'), ['{"ok":true}']);
      assert.deepEqual(received, [
        { url: '/v1/callbacks/token123/task-result', body: '{"status":"success"}', type: 'application/json' },
      ]);
      await executor.destroy(handle.ref);

      const served = await executor.start(
        spec(
          sh(
            'mkdir -p /tmp/www && echo hello > /tmp/www/event && exec httpd -f -p "127.0.0.1:$CO_ENDPOINT_PORT" -h /tmp/www',
            {
              endpoint: { port: 8080, path: '/event' },
            },
          ),
        ),
        () => undefined,
      );
      try {
        assert.match(served.endpointUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/event$/);
        assert.notEqual(served.endpointUrl, 'http://127.0.0.1:8080/event', 'a free port is chosen on the host network');
        let answer: { status: number; body: string } | undefined;
        for (let i = 0; i < 50 && answer === undefined; i++) {
          answer = await httpGet(served.endpointUrl ?? '').catch(() => undefined);
          if (answer === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(answer, { status: 200, body: 'hello\n' });
      } finally {
        await served.kill('done', 0);
        await served.wait();
        await executor.destroy(served.ref);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('on a bridge network, the endpoint is the container address and callbacks need the advertised URL', async () => {
    const bridged = createDockerExecutor({ dockerHost: podman.dockerHost, engineId, network: 'podman' });
    try {
      assert.throws(() => bridged.callbackBaseUrl('http://127.0.0.1:7700'), ConfigError);
      assert.equal(bridged.callbackBaseUrl('http://127.0.0.1:7700', 'http://10.88.0.1:7700'), 'http://10.88.0.1:7700');
      const handle = await bridged.start(
        spec(
          sh('mkdir -p /tmp/www && echo bridged > /tmp/www/event && exec httpd -f -p "$CO_ENDPOINT_PORT" -h /tmp/www', {
            endpoint: { port: 8080, path: '/event' },
          }),
        ),
        () => undefined,
      );
      try {
        assert.match(handle.endpointUrl ?? '', /^http:\/\/\d+\.\d+\.\d+\.\d+:8080\/event$/);
        let answer: { status: number; body: string } | undefined;
        for (let i = 0; i < 50 && answer === undefined; i++) {
          answer = await httpGet(handle.endpointUrl ?? '').catch(() => undefined);
          if (answer === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(answer, { status: 200, body: 'bridged\n' });
      } finally {
        await handle.kill('done', 0);
        await bridged.destroy(handle.ref);
      }
    } finally {
      await bridged.close();
    }
  });

  test('a container created but never started (a crash in between) is listed, attaches as lost, is replaced', async () => {
    const task = spec(sh('echo never'));
    const plan = toContainerPlan(task, {
      engineId,
      network: 'host',
      image: BASE,
      killGraceMs: 1000,
      canLimitMemory: true,
      canLimitCpu: true,
    });
    await docker.createContainer(plan.options);
    assert.deepEqual(
      (await executor.list()).find((ref) => ref.ref === plan.name),
      { ref: plan.name, runId, taskRunId: task.taskRunId, running: false },
    );
    const log = logs();
    const handle = await executor.attach(plan.name, log.onLog);
    assert.deepEqual(await handle?.wait(), { exitCode: null, reason: 'lost' });
    assert.deepEqual(log.all, []);

    // Starting the same task run again replaces the leftover instead of failing on its name.
    const again = await executor.start(task, log.onLog);
    assert.deepEqual(await again.wait(), { exitCode: 0 });
    assert.deepEqual(log.of('stdout'), ['never']);
    await executor.destroy(plan.name);
    assert.equal(
      (await executor.list()).find((ref) => ref.ref === plan.name),
      undefined,
    );
  });

  test('a volume left by a crash before its container was created is listed, then destroyed', async () => {
    const owner = 'pilotage-crashed-task';
    await docker.createVolume({
      Name: `${owner}-cache`,
      Labels: {
        [LABELS.managed]: 'true',
        [LABELS.engineId]: engineId,
        [LABELS.runId]: runId,
        [LABELS.taskRunId]: 'CRASHED-TASK',
        [LABELS.owner]: owner,
      },
    });
    assert.deepEqual(
      (await executor.list()).find((ref) => ref.ref === owner),
      { ref: owner, runId, taskRunId: 'CRASHED-TASK', running: false },
    );
    await executor.destroy(owner);
    assert.equal(
      (await executor.list()).find((ref) => ref.ref === owner),
      undefined,
    );
  });

  test('a component image is built from its folder, and a failing build names its step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-build-'));
    try {
      await writeFile(join(dir, 'hello.sh'), '#!/bin/sh\necho "hello from $0"\n', { mode: 0o755 });
      await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\nCOPY . /component\n`);
      const tag = `localhost/pilotage-test/hello:${engineId}`;
      builtImages.push(tag);
      const output: string[] = [];
      const built = await buildComponentImage(docker, dir, tag, (line) => output.push(line));
      assert.match(built.imageId, /^(sha256:)?[0-9a-f]{64}$/);
      assert.ok(
        output.some((line) => /COPY \. \/component/.test(line)),
        output.join('\n'),
      );

      const log = logs();
      const handle = await executor.start(
        spec({ image: tag, pullPolicy: 'never', command: ['./hello.sh'], dir }),
        log.onLog,
      );
      assert.deepEqual(await handle.wait(), { exitCode: 0 });
      assert.deepEqual(log.of('stdout'), ['hello from /component/hello.sh']);
      await executor.destroy(handle.ref);

      await writeFile(join(dir, 'Dockerfile'), `FROM ${BASE}\nCOPY missing-file /component/\n`);
      await assert.rejects(
        buildComponentImage(docker, dir, `${tag}-broken`, () => undefined),
        (error: unknown) => error instanceof ExecutorError && /COPY missing-file/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('detectDockerEndpoint finds the service through DOCKER_HOST, and nothing at a dead socket', async () => {
    assert.deepEqual(await detectDockerEndpoint({ DOCKER_HOST: podman.dockerHost }), {
      dockerHost: podman.dockerHost,
      source: 'DOCKER_HOST',
    });
    const dead = await detectDockerEndpoint(
      { DOCKER_HOST: 'unix:///nonexistent/docker.sock', XDG_RUNTIME_DIR: '/nonexistent' },
      300,
    );
    assert.notEqual(dead?.dockerHost, 'unix:///nonexistent/docker.sock');
  });

  test('nothing is left behind: no container or volume carries this engine id', async () => {
    const label = [`${LABELS.engineId}=${engineId}`];
    assert.deepEqual(await docker.listContainers({ all: true, filters: { label } }), []);
    assert.deepEqual((await docker.listVolumes({ filters: { label } })).Volumes ?? [], []);
    assert.deepEqual(await executor.list(), []);
  });
});
