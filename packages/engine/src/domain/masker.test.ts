import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Masker } from './masker.js';

test('masks every occurrence, longest secret first, in text and nested JSON', () => {
  const m = new Masker(['hunter2', 'hunter2-extended', 'ab']);
  assert.equal(m.text('p=hunter2-extended q=hunter2'), 'p=*** q=***');
  assert.deepEqual(m.json({ a: ['x hunter2 y', 3], b: { c: 'ab' } }), { a: ['x *** y', 3], b: { c: 'ab' } });
});

test('an empty masker leaves values untouched', () => {
  const m = new Masker([]);
  assert.equal(m.active, false);
  assert.equal(m.text('hunter2'), 'hunter2');
});
