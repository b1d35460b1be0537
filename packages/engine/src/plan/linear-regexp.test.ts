import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSchema, schemaProblems } from './schema.js';

// `^(a+)+$` backtracks exponentially in a backtracking engine: 26 characters blocked the server
// 1.1 s, 40 would take hours. With RE2 the answer comes at once; the timeout only ends a
// regression instead of hanging the suite.
test('a pattern that backtracks exponentially elsewhere is matched in linear time', { timeout: 60_000 }, () => {
  const validate = compileSchema({ type: 'object', properties: { token: { type: 'string', pattern: '^(a+)+$' } } });
  assert.match(validate({ token: `${'a'.repeat(40)}b` }) ?? '', /\/token: must match pattern/);
  assert.equal(validate({ token: 'a'.repeat(40) }), undefined);
});

test('patterns keep ECMAScript escapes and patternProperties', () => {
  const validate = compileSchema({
    type: 'object',
    properties: { name: { type: 'string', pattern: '^caf\\u00e9 \\u{1F600}$' } },
    patternProperties: { '^x-[a-z]+$': { type: 'integer' } },
  });
  assert.equal(validate({ name: 'café 😀', 'x-count': 3 }), undefined);
  assert.match(
    validate({ name: 'cafe', 'x-count': 'three' }) ?? '',
    /\/name: must match pattern.*\/x-count: must be integer/,
  );
});

test('look-around and backreferences are refused when the schema is loaded, at the pattern', () => {
  const problems = schemaProblems({
    type: 'object',
    properties: { a: { type: 'string' }, b: { type: 'string', pattern: '^(\\w)\\1$' } },
  });
  assert.equal(problems.length, 1);
  assert.deepEqual(problems[0]!.path, ['properties', 'b', 'pattern']);
  assert.match(problems[0]!.message, /the pattern "\^\(\\\\w\)\\\\1\$" is not supported .*linear time \(RE2 syntax\)/);
  const keyed = schemaProblems({ type: 'object', patternProperties: { '(?!x)': {} } });
  assert.deepEqual(keyed[0]!.path, ['patternProperties', '(?!x)']);
});
