import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { forbiddenKeyPath, jsonFieldPath, parseJsonText, refuseForbiddenKeys } from './json-text.js';

describe('JSON text', () => {
  test('forbidden keys are found at any depth, in lists too; other values pass', () => {
    assert.deepEqual(forbiddenKeyPath(JSON.parse('{"a": [1, {"b": {"__proto__": {}}}]}')), ['a', 1, 'b', '__proto__']);
    assert.deepEqual(forbiddenKeyPath({ x: { constructor: 1 } }), ['x', 'constructor']);
    assert.deepEqual(forbiddenKeyPath([{ prototype: null }]), [0, 'prototype']);
    assert.equal(forbiddenKeyPath({ proto: 1, constructors: [], text: '__proto__' }), undefined);
    let deep: unknown = { leaf: true };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(forbiddenKeyPath(deep), undefined, 'no stack overflow on deep input');
  });

  test('a refusal names the field', () => {
    assert.throws(
      () => refuseForbiddenKeys({ data: { 'a b': [{ constructor: 1 }] } }, 'body'),
      (error: Error & { details: { field: string }[] }) => {
        assert.equal(error.details[0]!.field, 'body.data["a b"][0].constructor');
        return true;
      },
    );
    assert.equal(jsonFieldPath('', ['a', 0, 'b']), 'a[0].b');
  });

  test('a syntax error says where, never what the text was', () => {
    const secret = 'hunter2hunter2';
    for (const text of [`${secret} is not json`, `{"a": "${secret}`, `{"a": 1,\n "b": ${secret}}`]) {
      assert.throws(
        () => parseJsonText(text, '--data'),
        (error: Error) => {
          assert.match(error.message, /^--data is not valid JSON/);
          assert.ok(!error.message.includes('hunter2'), error.message);
          return true;
        },
      );
    }
    assert.deepEqual(parseJsonText('{"a": [1]}', 'x'), { a: [1] });
  });
});
