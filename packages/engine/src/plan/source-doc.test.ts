import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Alias, LineCounter, parseDocument } from 'yaml';
import { formatIssue } from '../domain/issue.js';
import { parseSource } from './source-doc.js';

describe('parseSource', () => {
  test('converts to JSON and knows where every key and value is', () => {
    const text = 'a: 1\nlist:\n  - x\n  - { y: "z" }\n';
    const { value, source, issues } = parseSource(text, 'f.yaml');
    assert.deepEqual(value, { a: 1, list: ['x', { y: 'z' }] });
    assert.deepEqual(issues, []);
    assert.deepEqual(source.position(['list', 1, 'y']), { line: 4, column: 10 });
    assert.deepEqual(source.position(['list', 1, 'y'], true), { line: 4, column: 7 });
    assert.deepEqual(source.position(['list'], true), { line: 2, column: 1 });
    // a missing key falls back to its nearest ancestor
    assert.deepEqual(source.position(['list', 1, 'missing', 'deeper']), { line: 4, column: 5 });
  });

  test('expands aliases, reporting them at the alias', () => {
    const { value, source } = parseSource('base: &b { n: 1 }\ncopy: *b\n', 'f.yaml');
    assert.deepEqual(value, { base: { n: 1 }, copy: { n: 1 } });
    assert.deepEqual(source.position(['copy']), { line: 2, column: 7 });
    const cyclic = parseSource('a: &x [ *x ]\n', 'f.yaml');
    assert.deepEqual(cyclic.issues.map(formatIssue), [
      'f.yaml:1:9: a[0]: alias refers to an unknown or enclosing anchor',
    ]);
  });

  test('looks each alias up once, however often its anchored block is expanded (an alias bomb)', (t) => {
    // the YAML library walks the whole document for each lookup: once per alias, not per expansion
    const lookup = t.mock.method(Alias.prototype, 'resolve');
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 5; i++) {
      const name = String.fromCharCode(97 + i);
      levels.push(
        `${name}: &${name} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    }
    const { value, issues } = parseSource(`${levels.join('\n')}\n`, 'bomb.yaml');
    assert.deepEqual(issues, []);
    // 10 + 100 + 1,000 + 10,000 + 100,000 values "x", under the cap of values per file
    assert.equal(JSON.stringify(value).match(/"x"/g)?.length, 111_110);
    assert.equal(lookup.mock.callCount(), 40, 'one lookup for each of the 40 aliases written');
  });

  test('reports duplicate keys, complex keys and values JSON cannot hold', () => {
    const { value, issues } = parseSource('a: 1\na: 2\n? [k]\n: v\n1.50: x\nbig: .inf\n', 'f.yaml');
    assert.deepEqual(value, { a: 1, '1.50': 'x', big: null });
    assert.deepEqual(issues.map(formatIssue), [
      'f.yaml:2:1: a: duplicate key "a" (first defined at line 1)',
      'f.yaml:3:3: keys must be plain strings, not lists or mappings',
      'f.yaml:6:6: big: Infinity is not a JSON number',
    ]);
  });

  test('syntax errors stop the conversion and carry their position', () => {
    const { value, issues } = parseSource('a: [1, 2\nb: "open\n', 'f.yaml');
    assert.equal(value, undefined);
    assert.ok(issues.length > 0);
    assert.ok(issues.every((issue) => issue.message.startsWith('invalid YAML: ') && issue.line >= 1));
  });

  test('an empty document is null', () => {
    assert.equal(parseSource('# only a comment\n', 'f.yaml').value, null);
  });
});

test('__proto__, constructor and prototype keys are issues at their line and column, and never set', () => {
  const { value, issues } = parseSource('a:\n  __proto__: { polluted: true }\n  ok: 1\nprototype: 2\n', 'f.yaml');
  assert.deepEqual(
    issues.map((i) => [i.line, i.column, i.path]),
    [
      [2, 3, 'a.__proto__'],
      [4, 1, 'prototype'],
    ],
  );
  assert.deepEqual(value, { a: { ok: 1 } });
  assert.equal(Object.getPrototypeOf((value as { a: object }).a), Object.prototype);
});

test("positions count lines as the YAML library's LineCounter does (at \\n; a lone \\r is no line break)", () => {
  for (const text of [
    'a: 1\r\nb:\r\n  - "x\ry"\r\n',
    'a: |\n  l1\n\n  l2\n# c\nb: "x\n  y"\n',
    '{\n"a": 1,\n\n"b": 2\n}',
    'a: 1\rb: 2',
  ]) {
    const lines = new LineCounter();
    parseDocument(text, { lineCounter: lines });
    const { source } = parseSource(text, 'f.yaml');
    for (let offset = 0; offset <= text.length; offset++) {
      const { line, col } = lines.linePos(offset);
      assert.deepEqual(source.positionAt(offset), { line, column: col }, `${JSON.stringify(text)} at ${offset}`);
    }
  }
});
