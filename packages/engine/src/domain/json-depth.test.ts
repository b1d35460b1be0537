import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from './errors.js';
import { jsonTextTooDeep, MAX_JSON_DEPTH, refuseForbiddenKeys, unsafeJsonProblem } from './json-text.js';

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

test('JSON nested 100,000 deep is refused naming the limit, without overflowing the stack', () => {
  const value: unknown = JSON.parse(nested(100_000));
  assert.equal(unsafeJsonProblem(value)?.kind, 'depth');
  assert.throws(
    () => refuseForbiddenKeys(value, 'body.data'),
    (error: unknown) =>
      error instanceof ValidationError &&
      error.message === 'body.data: nests objects and lists deeper than 100 levels, the limit for JSON input',
  );
});

test('the limit is exactly MAX_JSON_DEPTH levels of objects and lists', () => {
  assert.equal(MAX_JSON_DEPTH, 100);
  assert.equal(unsafeJsonProblem(JSON.parse(nestedObject(100))), undefined);
  assert.equal(unsafeJsonProblem(JSON.parse(nestedObject(101)))?.kind, 'depth');
  assert.equal(unsafeJsonProblem(JSON.parse(nested(100))), undefined);
  assert.equal(unsafeJsonProblem(JSON.parse(nested(101)))?.kind, 'depth');
});

test('the text scan counts brackets outside strings only', () => {
  assert.equal(jsonTextTooDeep(nested(100)), false);
  assert.equal(jsonTextTooDeep(nested(101)), true);
  assert.equal(jsonTextTooDeep(`{"a":"${'['.repeat(500)}","b":"\\"${'{'.repeat(500)}"}`), false);
  assert.equal(jsonTextTooDeep(nested(1_000_000)), true);
});
