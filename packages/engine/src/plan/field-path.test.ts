import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { childPathKey, formatPath, pathKey } from './field-path.js';

describe('field paths', () => {
  test('formatPath quotes keys that are not plain identifiers', () => {
    assert.equal(formatPath([]), '');
    assert.equal(formatPath(['stages', 1, 'actions', 0, 'with', 'repo']), 'stages[1].actions[0].with.repo');
    assert.equal(formatPath(['env', 'A.B']), 'env["A.B"]');
  });

  test("childPathKey is pathKey of the path one part longer, from the parent's key alone", () => {
    const parts: (string | number)[] = ['a', 0, '', 'with "quotes", [brackets] and \\', 12, 'ü', '1.10', '[]'];
    let path: (string | number)[] = [];
    let key = pathKey(path);
    for (const part of parts) {
      path = [...path, part];
      key = childPathKey(key, part);
      assert.equal(key, pathKey(path));
    }
  });
});
