import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResolvedComponent } from '../plan/types.js';
import { unhonouredFields, unhonouredWarning, UNHONOURED_FIELDS } from './capabilities.js';

const base: ResolvedComponent = { name: 'c', version: '1.0.0', strict: false, env: {}, volumes: [] };

test('the local executor names each field it cannot honour, only when the component sets it', () => {
  assert.deepEqual(unhonouredFields('local', base), []);
  const heavy: ResolvedComponent = {
    ...base,
    resources: { cpu: '500m' },
    volumes: [{ name: 'cache', mountPath: '/cache' }],
    kubernetes: { serviceAccountName: 'builder' },
    user: '1000',
    workingDir: '/src',
  };
  assert.deepEqual(
    unhonouredFields('local', heavy).map((f) => f.field),
    ['resources', 'volumes', 'kubernetes', 'user', 'workingDir'],
  );
  assert.deepEqual(
    unhonouredFields('docker', heavy).map((f) => f.field),
    ['kubernetes'],
  );
});

test('empty settings are not set: no warning for kubernetes: {} or resources: {}', () => {
  assert.equal(unhonouredWarning('local', { ...base, kubernetes: { nodeSelector: {} }, resources: {} }), undefined);
});

test('the warning line names the executor, each field and why', () => {
  assert.equal(
    unhonouredWarning('local', { ...base, resources: { memory: '1Gi' } }),
    'the local executor does not honour resources (a local process gets no CPU or memory limits)',
  );
});

test('an executor without a row honours everything', () => {
  assert.equal(UNHONOURED_FIELDS['nowhere'], undefined);
  assert.deepEqual(unhonouredFields('nowhere', { ...base, resources: { cpu: '1' } }), []);
});

test('the kubernetes executor names only the cases it cannot honour: initial data made read-only, a user name', () => {
  const fine: ResolvedComponent = {
    ...base,
    user: '1000:1000',
    resources: { memory: '1Gi' },
    kubernetes: { serviceAccountName: 'builder' },
    volumes: [
      { name: 'cache', mountPath: '/cache' },
      { name: 'conf', mountPath: '/etc/x', readOnly: true, initialData: { a: 'b' } },
    ],
  };
  assert.deepEqual(unhonouredFields('kubernetes', fine), []);
  const not: ResolvedComponent = {
    ...base,
    user: 'builder',
    volumes: [{ name: 'conf', mountPath: '/etc/x', initialData: { a: 'b' } }],
  };
  assert.deepEqual(
    unhonouredFields('kubernetes', not).map((f) => f.field),
    ['volumes', 'user'],
  );
  assert.match(
    unhonouredWarning('kubernetes', not) ?? '',
    /^the kubernetes executor does not honour volumes \(a volume with initialData is a read-only ConfigMap/,
  );
});
