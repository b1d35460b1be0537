import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareVersions, maxSatisfying, parseRange, parseVersion, satisfies } from './version-range.js';

describe('parseVersion', () => {
  test('accepts semver 2.0.0 and rejects the rest', () => {
    const good = ['0.0.0', '1.2.3', '10.20.30', '1.0.0-rc.1', '1.0.0-alpha-1.x', '1.0.0+build.5', '1.0.0-beta+exp.sha'];
    for (const text of good) assert.ok(parseVersion(text), text);
    const bad = ['1', '1.2', 'v1.2.3', '01.0.0', '1.02.0', '1.2.3-', '1.2.3-a..b', '1.2.3 ', '^1.2.3', ''];
    for (const text of bad) assert.equal(parseVersion(text), undefined, text);
  });

  test('splits numeric and textual prerelease identifiers', () => {
    assert.deepEqual(parseVersion('1.2.3-rc.10.x')?.prerelease, ['rc', 10, 'x']);
  });
});

describe('compareVersions', () => {
  test('sorts by semver precedence, not by text', () => {
    const sorted = [
      '1.10.0',
      '1.0.0',
      '1.0.0-rc.1',
      '1.9.0',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta.11',
      '1.0.0-beta.2',
      '0.9.9',
      '2.0.0',
    ].sort(compareVersions);
    assert.deepEqual(sorted, [
      '0.9.9',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.9.0',
      '1.10.0',
      '2.0.0',
    ]);
  });

  test('ignores build metadata and puts non-versions first', () => {
    assert.equal(compareVersions('1.0.0+a', '1.0.0+b'), 0);
    assert.deepEqual(['1.0.0', 'zzz', 'abc'].sort(compareVersions), ['abc', 'zzz', '1.0.0']);
  });
});

describe('parseRange and satisfies', () => {
  const versions = [
    '0.1.0',
    '0.1.5',
    '0.2.0',
    '1.0.0',
    '1.2.0',
    '1.2.9',
    '1.3.0-rc.1',
    '1.10.0',
    '2.0.0-rc.1',
    '2.0.0',
  ];
  const cases: [range: string, highest: string | undefined, matching: string[]][] = [
    ['1.2.0', '1.2.0', ['1.2.0']],
    ['1.3.0-rc.1', '1.3.0-rc.1', ['1.3.0-rc.1']],
    ['^1', '1.10.0', ['1.0.0', '1.2.0', '1.2.9', '1.10.0']],
    ['^1.2', '1.10.0', ['1.2.0', '1.2.9', '1.10.0']],
    ['^1.2.5', '1.10.0', ['1.10.0', '1.2.9']],
    ['^0.1', '0.1.5', ['0.1.0', '0.1.5']],
    ['^0.1.2', '0.1.5', ['0.1.5']],
    ['^0.0.1', undefined, []],
    ['^0', '0.2.0', ['0.1.0', '0.1.5', '0.2.0']],
    ['~1.2', '1.2.9', ['1.2.0', '1.2.9']],
    ['~1.2.3', '1.2.9', ['1.2.9']],
    ['~1', '1.10.0', ['1.0.0', '1.2.0', '1.2.9', '1.10.0']],
    ['1', '1.10.0', ['1.0.0', '1.2.0', '1.2.9', '1.10.0']],
    ['1.x', '1.10.0', ['1.0.0', '1.2.0', '1.2.9', '1.10.0']],
    ['1.2', '1.2.9', ['1.2.0', '1.2.9']],
    ['1.2.x', '1.2.9', ['1.2.0', '1.2.9']],
    ['1.2.*', '1.2.9', ['1.2.0', '1.2.9']],
    ['^1.3.0-rc.0', '1.10.0', ['1.3.0-rc.1', '1.10.0']],
    ['latest', '2.0.0', ['0.1.0', '0.1.5', '0.2.0', '1.0.0', '1.2.0', '1.2.9', '1.10.0', '2.0.0']],
    ['*', '2.0.0', ['0.1.0', '0.1.5', '0.2.0', '1.0.0', '1.2.0', '1.2.9', '1.10.0', '2.0.0']],
    ['^3', undefined, []],
  ];
  for (const [text, highest, matching] of cases) {
    test(`${text} matches ${matching.join(', ') || 'nothing'}`, () => {
      const range = parseRange(text);
      assert.ok(range, `${text} parses`);
      const got = versions.filter((v) => satisfies(parseVersion(v)!, range));
      assert.deepEqual(new Set(got), new Set(matching));
      assert.equal(maxSatisfying(versions, range), highest);
    });
  }

  test('rejects what is not a supported range', () => {
    for (const text of ['>=1.0.0', '1.2.3 - 2', 'v1', '^', '~', '^x', '1.x.3', '^1-rc', 'latest1', '', '1..2']) {
      assert.equal(parseRange(text), undefined, text);
    }
  });

  test('an exact version compares its text, build metadata included', () => {
    const range = parseRange('1.0.0+a')!;
    assert.equal(satisfies(parseVersion('1.0.0+a')!, range), true);
    assert.equal(satisfies(parseVersion('1.0.0+b')!, range), false);
  });

  test('maxSatisfying ignores texts that are not versions', () => {
    assert.equal(maxSatisfying(['junk', '1.0.0'], parseRange('^1')!), '1.0.0');
  });
});
