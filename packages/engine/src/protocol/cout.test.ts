import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoutCollector, parseCoutLine } from './cout.js';

describe('parseCoutLine', () => {
  const cases: Array<[string, { key: string; value: string } | undefined]> = [
    ['[COUT] commit=abc123', { key: 'commit', value: 'abc123' }],
    ['[COUT]commit=abc', { key: 'commit', value: 'abc' }],
    ['[COUT] url=http://x/?a=b', { key: 'url', value: 'http://x/?a=b' }],
    ['[COUT] json={"a":1}', { key: 'json', value: '{"a":1}' }],
    ['[COUT] empty=', { key: 'empty', value: '' }],
    ['[COUT] CO_RESULT=true\r', { key: 'CO_RESULT', value: 'true' }],
    ['[COUT] spaced = x', undefined],
    ['[COUT] noequals', undefined],
    ['  [COUT] k=v', undefined],
    ['[cout] k=v', undefined],
    ['hello [COUT] k=v', undefined],
    ['', undefined],
  ];
  for (const [line, expected] of cases) {
    test(JSON.stringify(line), () => assert.deepEqual(parseCoutLine(line), expected));
  }
});

describe('CoutCollector', () => {
  test('collects outputs (later wins) and the result', () => {
    const c = new CoutCollector();
    assert.equal(c.add('building'), false);
    assert.equal(c.add('[COUT] commit=a'), true);
    c.add('[COUT] commit=b');
    c.add('[COUT] size=12');
    assert.equal(c.result, undefined);
    c.add('[COUT] CO_RESULT=FALSE');
    assert.equal(c.result, 'failure');
    c.add('[COUT] CO_RESULT= true ');
    assert.equal(c.result, 'success');
    assert.deepEqual(c.output, { commit: 'b', size: '12' });
    assert.deepEqual(c.issues, []);
  });
  test('an invalid CO_RESULT is ignored and noted', () => {
    const c = new CoutCollector();
    c.add('[COUT] CO_RESULT=yes');
    assert.equal(c.result, undefined);
    assert.equal(c.issues.length, 1);
    assert.ok(!('CO_RESULT' in c.output));
  });
  test('__proto__ is a plain field', () => {
    const c = new CoutCollector();
    c.add('[COUT] __proto__=x');
    assert.equal(Object.getPrototypeOf(c.output), Object.prototype);
    assert.equal(JSON.stringify(c.output), '{"__proto__":"x"}');
  });
});
