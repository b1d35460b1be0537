import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunData } from './parse-inputs.js';

const schema = {
  type: 'object',
  properties: { repo: { type: 'string' }, count: { type: 'integer' }, dry: { type: 'boolean' } },
};

test('inputs are typed by the workflow schema and win over --data', () => {
  const data = parseRunData(
    { data: '{"repo":"a","extra":1}', inputs: ['repo=b=c', 'count=3', 'dry=true', 'free=007'] },
    schema,
  );
  assert.deepEqual(data, { repo: 'b=c', extra: 1, count: 3, dry: true, free: '007' });
});

test('--data @file reads the file; errors name the flag', () => {
  assert.deepEqual(
    parseRunData({ data: '@x.json' }, undefined, () => '{"a":1}'),
    { a: 1 },
  );
  assert.throws(() => parseRunData({ data: '[1]' }, undefined), /--data must be a JSON object/);
  assert.throws(() => parseRunData({ data: '{' }, undefined), /--data is not valid JSON/);
  assert.throws(() => parseRunData({ inputs: ['novalue'] }, undefined), /must look like name=value/);
  assert.throws(() => parseRunData({ inputs: ['count=three'] }, schema), /--input count: expected integer/);
});
