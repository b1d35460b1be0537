import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closestMatch, didYouMean, editDistance } from './did-you-mean.js';

describe('editDistance', () => {
  const cases: [string, string, number][] = [
    ['with', 'with', 0],
    ['wiht', 'with', 1],
    ['timeot', 'timeout', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ];
  for (const [a, b, expected] of cases) {
    test(`${a} → ${b} is ${expected}`, () => assert.equal(editDistance(a, b), expected));
  }
});

describe('closestMatch', () => {
  test('suggests a close candidate, case-insensitively', () => {
    assert.equal(closestMatch('Stage', ['stages', 'name']), 'stages');
    assert.equal(closestMatch('imgae', ['image', 'name']), 'image');
  });
  test('suggests nothing for a word far from every candidate', () => {
    assert.equal(closestMatch('colour', ['name', 'stages', 'env']), undefined);
    assert.equal(closestMatch('ab', ['xy']), undefined);
  });
  test('prefers the nearest, then the first listed', () => {
    assert.equal(closestMatch('cron', ['corn', 'cron']), 'cron');
    assert.equal(closestMatch('abcd', ['abce', 'abcf']), 'abce');
  });
  test('didYouMean phrases the hint or stays empty', () => {
    assert.equal(didYouMean('wiht', ['with']), ' (did you mean "with"?)');
    assert.equal(didYouMean('zzz', ['with']), '');
  });
});

describe('closestMatch on a huge word', () => {
  test('a word of a million characters matches nothing, and a near-length candidate is still measured', () => {
    const huge = 'y'.repeat(1_000_000);
    assert.equal(closestMatch(huge, ['Workflow', 'Component', 'inputs', 'actions']), undefined);
    // the length filter keeps what is within three edits
    assert.equal(closestMatch('stagesxyz', ['stages']), 'stages');
    assert.equal(closestMatch('stagesxyzw', ['stages']), undefined);
  });
});
