import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../domain/errors.js';
import { answersPing, detectDockerEndpoint, dockerOptionsFor, isLocalDockerHost } from './docker-connection.js';

const options: Array<[string, Record<string, string>, object]> = [
  ['unix:///var/run/docker.sock', {}, { socketPath: '/var/run/docker.sock' }],
  ['/run/podman/podman.sock', {}, { socketPath: '/run/podman/podman.sock' }],
  ['tcp://10.0.0.5:2375', {}, { host: '10.0.0.5', port: 2375, protocol: 'http' }],
  ['tcp://docker.example.com:2376', {}, { host: 'docker.example.com', port: 2376, protocol: 'https' }],
  ['tcp://10.0.0.5:2375', { DOCKER_TLS_VERIFY: '1' }, { host: '10.0.0.5', port: 2375, protocol: 'https' }],
  ['tcp://[::1]:2375', {}, { host: '::1', port: 2375, protocol: 'http' }],
  ['http://localhost', {}, { host: 'localhost', port: 2375, protocol: 'http' }],
];
for (const [host, env, expected] of options) {
  test(`dockerOptionsFor ${host} ${JSON.stringify(env)}`, () => {
    assert.deepEqual(dockerOptionsFor(host, env), expected);
  });
}

for (const bad of ['ssh://user@host', 'not a url', 'unix://']) {
  test(`dockerOptionsFor refuses ${bad}`, () => {
    assert.throws(() => dockerOptionsFor(bad), ConfigError);
  });
}

const locality: Array<[string, boolean]> = [
  ['unix:///var/run/docker.sock', true],
  ['/run/podman/podman.sock', true],
  ['tcp://127.0.0.1:2375', true],
  ['tcp://localhost:2375', true],
  ['tcp://[::1]:2375', true],
  ['tcp://10.0.0.5:2375', false],
  ['tcp://docker.example.com:2376', false],
];
for (const [host, local] of locality) {
  test(`isLocalDockerHost ${host} = ${local}`, () => {
    assert.equal(isLocalDockerHost(host), local);
  });
}

test('detectDockerEndpoint: DOCKER_HOST that answers /_ping wins; a dead one is skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-ping-'));
  const socketPath = join(dir, 'api.sock');
  // A stand-in API that only answers /_ping, as the Docker Engine API does.
  const server = createServer((req, res) => {
    res.writeHead(req.url?.endsWith('/_ping') === true ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url?.endsWith('/_ping') === true ? 'OK' : 'no');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    assert.equal(await answersPing(`unix://${socketPath}`, {}, 500), true);
    assert.equal(await answersPing(`unix://${join(dir, 'missing.sock')}`, {}, 500), false);
    assert.deepEqual(await detectDockerEndpoint({ DOCKER_HOST: `unix://${socketPath}` }, 500), {
      dockerHost: `unix://${socketPath}`,
      source: 'DOCKER_HOST',
    });
    const found = await detectDockerEndpoint(
      { DOCKER_HOST: `unix://${join(dir, 'missing.sock')}`, XDG_RUNTIME_DIR: dir },
      300,
    );
    assert.notEqual(found?.source, 'DOCKER_HOST');
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
