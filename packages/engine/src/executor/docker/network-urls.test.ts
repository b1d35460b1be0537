import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../domain/errors.js';
import { callbackBaseUrlFor, endpointUrlFor } from './network-urls.js';

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
