import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { loadConfig } from '../config/config.js';
import { ConfigError, ExecutorError } from '../domain/errors.js';
import { configuredExecutors } from './configured-executors.js';

const DEAD = 'unix:///nonexistent/pilotage-test/docker.sock';
const config = (flags: Record<string, string>) =>
  loadConfig({ env: {}, home: tmpdir(), flags: { db: ':memory:', dockerHost: DEAD, ...flags } });

test('local: docker is there on demand, nothing is probed, and it says why it cannot start', async () => {
  const said: string[] = [];
  const { executors, defaultName } = await configuredExecutors(config({ executor: 'local' }), {
    info: (m) => said.push(m),
  });
  assert.equal(defaultName, 'local');
  assert.deepEqual(
    executors.map((e) => e.name),
    ['local', 'docker', 'kubernetes'],
  );
  const docker = executors[1]!;
  assert.deepEqual(await docker.list(), []);
  assert.equal(await docker.attach('pilotage-x', () => undefined), undefined);
  await docker.destroy('pilotage-x');
  const component = { name: 'n', version: '1.0.0', strict: false, env: {}, volumes: [], image: 'busybox' };
  await assert.rejects(
    docker.start(
      {
        ...{ runId: 'R', taskRunId: 'T', attempt: 1, workflow: 'w', stage: 's', action: 'a', component, env: {} },
        ...{ workspace: { mountPath: tmpdir(), hostDir: tmpdir() }, timeoutMs: 1000 },
      },
      () => undefined,
    ),
    (error: unknown) =>
      error instanceof ExecutorError && error.retryable === true && error.message.includes(`${DEAD} (DOCKER_HOST)`),
  );
  assert.deepEqual(said, []);
  await Promise.all(executors.map((e) => e.close()));
});

test('docker: no endpoint is a configuration error naming what was tried', async () => {
  await assert.rejects(
    configuredExecutors(config({ executor: 'docker' })),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message.startsWith(`executor docker: no Docker Engine API answered at ${DEAD}`),
  );
});

test('auto: no endpoint means local, and it says so', async () => {
  const said: string[] = [];
  const { executors, defaultName } = await configuredExecutors(config({ executor: 'auto' }), {
    info: (m) => said.push(m),
  });
  assert.equal(defaultName, 'local');
  assert.deepEqual(said, [`executor auto: no Docker Engine API answered (tried ${DEAD} (DOCKER_HOST)); using local`]);
  await Promise.all(executors.map((e) => e.close()));
});
