import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../domain/errors.js';
import type { ContainerInspectInfo } from 'dockerode';
import { LABELS } from './labels.js';
import { callbackBaseUrlFor, containerEndpointUrl, endpointUrlFor } from './network-urls.js';

const LOOPBACK = 'http://127.0.0.1:7700';
const ADVERTISED = 'https://pilotage.example.com';

const callbacks: Array<[string, Parameters<typeof callbackBaseUrlFor>[0], string | undefined, string]> = [
  ['host network, local runtime: loopback', { network: 'host', daemonIsLocal: true }, ADVERTISED, LOOPBACK],
  ['host network, local runtime, no advertised URL', { network: 'host', daemonIsLocal: true }, undefined, LOOPBACK],
  ['bridge: the advertised URL', { network: 'bridge', daemonIsLocal: true }, ADVERTISED, ADVERTISED],
  ['remote runtime: the advertised URL', { network: 'host', daemonIsLocal: false }, ADVERTISED, ADVERTISED],
  [
    'explicit callback URL wins',
    { network: 'bridge', daemonIsLocal: true, callbackUrl: 'http://10.0.0.1:7700' },
    ADVERTISED,
    'http://10.0.0.1:7700',
  ],
];
for (const [name, facts, advertised, expected] of callbacks) {
  test(`callback base URL: ${name}`, () => {
    assert.equal(callbackBaseUrlFor(facts, LOOPBACK, advertised), expected);
  });
}

test('callback base URL: a network that cannot reach loopback and no advertised URL is a ConfigError', () => {
  assert.throws(
    () => callbackBaseUrlFor({ network: 'bridge', daemonIsLocal: true }, LOOPBACK),
    (error: unknown) => error instanceof ConfigError && /advertised URL/.test(error.message),
  );
});

const endpoints: Array<[string, string, number, string | undefined, string | undefined]> = [
  ['host', '/event', 41000, undefined, 'http://127.0.0.1:41000/event'],
  ['host', 'event', 41000, '10.0.0.2', 'http://127.0.0.1:41000/event'],
  ['bridge', '/event', 8080, '10.88.0.5', 'http://10.88.0.5:8080/event'],
  ['bridge', '/event', 8080, 'fd00::5', 'http://[fd00::5]:8080/event'],
  ['bridge', '/event', 8080, '', undefined],
  ['bridge', '/event', 8080, undefined, undefined],
];
for (const [network, path, port, ip, expected] of endpoints) {
  test(`endpoint URL on ${network} with ${ip ?? 'no ip'}: ${expected}`, () => {
    assert.equal(endpointUrlFor(network, { path }, port, ip), expected);
  });
}

/** The parts of an inspection `containerEndpointUrl` reads. */
function inspected(labels: Record<string, string>, mode: string | undefined, ips: Record<string, string>) {
  return {
    Config: { Labels: labels },
    HostConfig: mode === undefined ? {} : { NetworkMode: mode },
    NetworkSettings: { Networks: Object.fromEntries(Object.entries(ips).map(([n, ip]) => [n, { IPAddress: ip }])) },
  } as unknown as ContainerInspectInfo;
}

test('container endpoint URL: from the labels and the address on its own network', () => {
  const labels = { [LABELS.endpointPort]: '8080', [LABELS.endpointPath]: '/event' };
  const onBridge = inspected(labels, 'bridge', { other: '10.0.0.9', bridge: '10.88.0.5' });
  assert.equal(containerEndpointUrl(onBridge, 'host'), 'http://10.88.0.5:8080/event');
  assert.equal(containerEndpointUrl(inspected(labels, undefined, {}), 'host'), 'http://127.0.0.1:8080/event');
  assert.equal(containerEndpointUrl(inspected(labels, 'podman', {}), 'host'), undefined, 'no address known');
  assert.equal(
    containerEndpointUrl(inspected({}, 'bridge', { bridge: '10.88.0.5' }), 'host'),
    undefined,
    'no endpoint',
  );
});
