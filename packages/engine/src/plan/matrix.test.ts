import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { combinationLabel, expandMatrix, matrixKeys, matrixTaskName } from './matrix.js';

function combinations(matrix: Parameters<typeof expandMatrix>[0]): unknown[] {
  const result = expandMatrix(matrix);
  assert.ok('combinations' in result, JSON.stringify(result));
  return result.combinations;
}

function problems(matrix: Parameters<typeof expandMatrix>[0]): string[] {
  const result = expandMatrix(matrix);
  assert.ok('problems' in result, 'expected problems');
  return result.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
}

describe('matrix expansion (GitHub Actions semantics)', () => {
  test('the cross product of the axes, the first axis varying slowest', () => {
    assert.deepEqual(combinations({ os: ['a', 'b'], node: [18, 20] }), [
      { os: 'a', node: 18 },
      { os: 'a', node: 20 },
      { os: 'b', node: 18 },
      { os: 'b', node: 20 },
    ]);
  });

  test('exclude removes every combination holding all of an entry’s values', () => {
    assert.deepEqual(combinations({ os: ['a', 'b'], node: [18, 20], exclude: [{ os: 'b', node: 18 }, { node: 20 }] }), [
      { os: 'a', node: 18 },
    ]);
  });

  test('include extends the combinations it fits, and is its own combination when it fits none', () => {
    assert.deepEqual(
      combinations({
        os: ['a', 'b'],
        include: [{ os: 'a', experimental: true }, { color: 'red' }, { os: 'c', extra: 1 }],
      }),
      [
        { os: 'a', experimental: true, color: 'red' },
        { os: 'b', color: 'red' },
        { os: 'c', extra: 1 },
      ],
    );
  });

  test('include may overwrite what an earlier include added, never an axis value', () => {
    assert.deepEqual(combinations({ os: ['a'], include: [{ color: 'red' }, { color: 'blue' }, { os: 'a', n: 1 }] }), [
      { os: 'a', color: 'blue', n: 1 },
    ]);
  });

  test('only include: its entries are the combinations; values may be any JSON', () => {
    assert.deepEqual(combinations({ include: [{ target: { arch: 'arm' } }, { target: 'x' }] }), [
      { target: { arch: 'arm' } },
      { target: 'x' },
    ]);
  });

  test('reserved keys are not axes', () => {
    assert.equal(combinations({ os: ['a'], maxParallel: 1, failFast: true } as never).length, 1);
  });

  test('more than 256 combinations is refused, before or after expansion', () => {
    assert.deepEqual(problems({ a: Array.from({ length: 257 }, (_, i) => i) }), [
      ': the matrix expands into 257 combinations; at most 256 are allowed',
    ]);
    // a huge cross product is refused without being built
    const ten = Array.from({ length: 10 }, (_, i) => i);
    assert.deepEqual(problems({ a: ten, b: ten, c: ten, d: ten, e: ten, f: ten, g: ten, h: ten }), [
      ': the matrix expands into 100000000 combinations; at most 256 are allowed',
    ]);
    assert.equal(combinations({ a: Array.from({ length: 16 }, (_, i) => i), b: ten.slice(0, 16) }).length, 160);
  });

  test('malformed matrices are reported where they are wrong', () => {
    assert.deepEqual(problems({ os: 'linux', node: [], include: 'x', exclude: [3] } as never), [
      'os: an axis is a list of values, got "linux"',
      'node: an axis needs at least one value',
      'include: include is a list of mappings, got "x"',
      'exclude.0: expected a mapping of keys to values, got 3',
    ]);
    assert.deepEqual(problems({ os: ['a'], exclude: [{ arch: 'x' }] }), [
      'exclude.0.arch: "arch" is not an axis of the matrix (os)',
    ]);
    assert.deepEqual(problems([1, 2] as never), [': a matrix is a mapping of axes to lists, got a list']);
  });

  test('two combinations with the same values are refused (their task runs would share a name)', () => {
    assert.deepEqual(problems({ os: ['a', 'a'] }), [
      ': combinations 1 and 2 have the same values (a); each must differ',
    ]);
  });

  test('names list the values in order; keys are the union in first-seen order', () => {
    const [first] = combinations({ os: ['linux'], node: [18], include: [{ flags: { x: 1 } }] }) as Record<
      string,
      never
    >[];
    assert.equal(matrixTaskName('build', first!), 'build (linux, 18, {"x":1})');
    assert.equal(combinationLabel({ a: 'x', b: true }), 'x, true');
    assert.deepEqual(matrixKeys([{ a: 1 }, { b: 2, a: 3 }]), ['a', 'b']);
    assert.deepEqual(combinations({}), []);
  });
});
