import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { literalInputProblems } from './literal-inputs.js';

const schema = {
  type: 'object',
  required: ['repo', 'mode'],
  additionalProperties: false,
  properties: {
    repo: { type: 'string', pattern: '^https://' },
    mode: { anyOf: [{ const: 'fast' }, { const: 'full' }] },
    opts: { type: 'object', required: ['level'], properties: { level: { type: 'integer' } } },
    tags: { type: 'array', minItems: 2, items: { type: 'string' } },
  },
};

describe('literalInputProblems', () => {
  test('a fully literal value is validated completely', () => {
    assert.deepEqual(literalInputProblems({ repo: 'http://x', mode: 'slow', tags: ['a', 1] }, schema), [
      { path: ['repo'], message: 'must match pattern "^https://"' },
      { path: ['mode'], message: 'must be equal to constant' },
      { path: ['mode'], message: 'must be equal to constant' },
      { path: ['mode'], message: 'must match a schema in anyOf' },
      { path: ['tags', 1], message: 'must be string' },
    ]);
  });

  test('expression values and their checks are left to run time', () => {
    assert.deepEqual(literalInputProblems({ repo: '${{ inputs.repo }}', mode: 'x-${{ inputs.mode }}' }, schema), []);
  });

  test('keys and item counts around expressions are still checked', () => {
    assert.deepEqual(
      literalInputProblems(
        { repo: '${{ inputs.repo }}', extra: 1, opts: { other: '${{ run.id }}' }, tags: ['${{ run.id }}'] },
        schema,
      ),
      [
        { path: [], message: "must have required property 'mode'" },
        { path: [], message: 'must NOT have additional properties ("extra")' },
        { path: ['opts'], message: "must have required property 'level'" },
        { path: ['tags'], message: 'must NOT have fewer than 2 items' },
      ],
    );
  });

  test('a literal part beside expressions is checked, combinators aside', () => {
    assert.deepEqual(
      literalInputProblems({ repo: 'ftp://x', mode: '${{ inputs.mode }}', opts: { level: 'high' } }, schema),
      [
        { path: ['repo'], message: 'must match pattern "^https://"' },
        { path: ['opts', 'level'], message: 'must be integer' },
      ],
    );
  });
});
