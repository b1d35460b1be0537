import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isScope, scopeAllows } from './scopes.js';

test('each scope includes the ones before it and none after', () => {
  assert.equal(scopeAllows(['admin'], 'read'), true);
  assert.equal(scopeAllows(['admin'], 'run'), true);
  assert.equal(scopeAllows(['run'], 'read'), true);
  assert.equal(scopeAllows(['run'], 'admin'), false);
  assert.equal(scopeAllows(['read'], 'run'), false);
  assert.equal(scopeAllows([], 'read'), false);
});

test('isScope knows exactly the three scopes', () => {
  assert.deepEqual(['read', 'run', 'admin', 'write', ''].map(isScope), [true, true, true, false, false]);
});
