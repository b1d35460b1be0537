import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorError } from '../../domain/errors.js';
import {
  parseRegistryCredentials,
  registryAuthFromSecrets,
  registryAuthSecretName,
  registryHostOf,
} from './registry-auth.js';

test('the registry host of an image reference, as Docker reads it', () => {
  const cases: Array<[string, string]> = [
    ['alpine', 'docker.io'],
    ['alpine:3.20', 'docker.io'],
    ['library/node:20', 'docker.io'],
    ['acme/tool@sha256:abc', 'docker.io'],
    ['docker.io/library/alpine', 'docker.io'],
    ['index.docker.io/acme/tool', 'docker.io'],
    ['ghcr.io/acme/tool:1', 'ghcr.io'],
    ['Registry.Example.com:5000/team/app:2', 'registry.example.com:5000'],
    ['localhost/pilotage/base:latest', 'localhost'],
    ['localhost:5000/x', 'localhost:5000'],
    ['registry:5000/x', 'registry:5000'],
  ];
  for (const [image, host] of cases) assert.equal(registryHostOf(image), host, image);
});

test('the secret name of a registry host', () => {
  assert.equal(registryAuthSecretName('ghcr.io'), 'REGISTRY_AUTH_GHCR_IO');
  assert.equal(registryAuthSecretName('registry.example.com:5000'), 'REGISTRY_AUTH_REGISTRY_EXAMPLE_COM_5000');
  assert.equal(registryAuthSecretName('docker.io'), 'REGISTRY_AUTH_DOCKER_IO');
});

test('credentials from user:password, JSON and config.json auth forms', () => {
  assert.deepEqual(parseRegistryCredentials('robot:pa:ss', 'ghcr.io', 'S'), {
    username: 'robot',
    password: 'pa:ss',
    serveraddress: 'ghcr.io',
  });
  assert.deepEqual(parseRegistryCredentials('{"username":"u","password":"p"}', 'docker.io', 'S'), {
    username: 'u',
    password: 'p',
    serveraddress: 'https://index.docker.io/v1/',
  });
  assert.deepEqual(
    parseRegistryCredentials(`{"auth":"${Buffer.from('u2:p2').toString('base64')}"}`, 'r.example:5000', 'S'),
    { username: 'u2', password: 'p2', serveraddress: 'r.example:5000' },
  );
  assert.deepEqual(parseRegistryCredentials('{"identitytoken":"tok"}', 'ghcr.io', 'S'), {
    identitytoken: 'tok',
    serveraddress: 'ghcr.io',
  });
});

test('malformed credentials name the secret and never echo its value', () => {
  for (const value of ['justatoken', ':nouser', 'user:', '{"username":"u"}', '{not json', '{"auth":"bm9jb2xvbg=="}']) {
    assert.throws(
      () => parseRegistryCredentials(value, 'ghcr.io', 'REGISTRY_AUTH_GHCR_IO'),
      (error: unknown) =>
        error instanceof ExecutorError &&
        error.message.includes('REGISTRY_AUTH_GHCR_IO') &&
        !error.message.includes(value),
      value,
    );
  }
});

test('the hook picks the secret of the image registry, and none for anonymous pulls', () => {
  const secrets: Record<string, string> = { REGISTRY_AUTH_GHCR_IO: 'robot:token', OTHER: 'x' };
  const auth = registryAuthFromSecrets(() => secrets);
  assert.deepEqual(auth('ghcr.io/acme/tool:1'), { username: 'robot', password: 'token', serveraddress: 'ghcr.io' });
  assert.equal(auth('alpine'), undefined);
  assert.equal(auth('quay.io/x/y'), undefined);
  secrets['REGISTRY_AUTH_DOCKER_IO'] = 'hub:pw';
  assert.deepEqual(auth('alpine'), { username: 'hub', password: 'pw', serveraddress: 'https://index.docker.io/v1/' });
});
