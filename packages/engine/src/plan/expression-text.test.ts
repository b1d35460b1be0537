import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitExpressions } from './expression-text.js';

describe('splitExpressions', () => {
  test('finds each expression with its offsets', () => {
    const text = 'ref ${{ inputs.ref }} at ${{run.id}}';
    assert.deepEqual(splitExpressions(text), [
      { kind: 'text', text: 'ref ' },
      { kind: 'expression', source: 'inputs.ref', start: 4, sourceStart: 8 },
      { kind: 'text', text: ' at ' },
      { kind: 'expression', source: 'run.id', start: 25, sourceStart: 28 },
    ]);
  });

  test('a "}}" inside a CEL string does not close the expression', () => {
    const segments = splitExpressions('${{ "}}" + \'}}\' + r"}}" }}!');
    assert.ok(Array.isArray(segments));
    assert.deepEqual(segments[0], { kind: 'expression', source: `"}}" + '}}' + r"}}"`, start: 0, sourceStart: 4 });
    assert.deepEqual(segments[1], { kind: 'text', text: '!' });
  });

  test('escaped quotes and triple-quoted strings stay inside the literal', () => {
    const segments = splitExpressions('${{ "a\\"}}" }}${{ """x}}""" }}');
    assert.ok(Array.isArray(segments));
    assert.deepEqual(
      segments.map((s) => (s.kind === 'expression' ? s.source : s.text)),
      ['"a\\"}}"', '"""x}}"""'],
    );
  });

  test('plain text is one text segment; an empty string has none', () => {
    assert.deepEqual(splitExpressions('just text { } $ {{'), [{ kind: 'text', text: 'just text { } $ {{' }]);
    assert.deepEqual(splitExpressions(''), []);
  });

  test('reports unterminated and empty expressions at their "${{"', () => {
    assert.deepEqual(splitExpressions('x ${{ inputs.a'), {
      message: 'unterminated expression: "${{" without a closing "}}"',
      offset: 2,
    });
    assert.deepEqual(splitExpressions('ok ${{ a }} ${{   }}'), { message: 'empty expression "${{ }}"', offset: 12 });
  });
});
