import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../domain/errors.js';
import { parseCpuCores, parseMemoryBytes } from './parse-quantity.js';

const cpu: Array<[string, number]> = [
  ['500m', 0.5],
  ['1', 1],
  ['2.5', 2.5],
  ['100m', 0.1],
  ['.5', 0.5],
  ['2e0', 2],
];
for (const [text, cores] of cpu) {
  test(`cpu ${text} = ${cores} cores`, () => {
    assert.ok(Math.abs(parseCpuCores(text) - cores) < 1e-12);
  });
}

const memory: Array<[string, number]> = [
  ['256Mi', 256 * 2 ** 20],
  ['1Gi', 2 ** 30],
  ['1.5Gi', 1.5 * 2 ** 30],
  ['64Ki', 65_536],
  ['129M', 129_000_000],
  ['1G', 1e9],
  ['128974848', 128_974_848],
  ['129e6', 129_000_000],
  ['1k', 1000],
  [' 2Mi ', 2 * 2 ** 20],
];
for (const [text, bytes] of memory) {
  test(`memory ${text} = ${bytes} bytes`, () => {
    assert.equal(parseMemoryBytes(text), bytes);
  });
}

for (const bad of ['', 'lots', '-1', '1 Gi', '1GB', '1mi', 'Mi', '1.2.3']) {
  test(`"${bad}" is not a quantity`, () => {
    assert.throws(() => parseMemoryBytes(bad), ValidationError);
    assert.throws(() => parseCpuCores(bad), ValidationError);
  });
}
