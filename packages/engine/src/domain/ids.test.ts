import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, pooledRandom } from './ids.js';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

test('newId gives distinct, sortable ULIDs across many pool refills', () => {
  // 10,000 ids draw the 4 KiB pool about 40 times over
  const ids = Array.from({ length: 10_000 }, () => newId());
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, CROCKFORD);
  assert.deepEqual([...ids].sort(), ids, 'ids made one after the other sort in that order');
});

test('pooledRandom is uniform over the 32 characters a ULID draws from, across pool refills', () => {
  const counts = new Array<number>(32).fill(0);
  const draws = 32_000; // about 8 refills of the 4 KiB pool
  for (let i = 0; i < draws; i++) {
    const x = pooledRandom();
    assert.ok(x >= 0 && x < 1, `${x} is outside [0, 1)`);
    counts[Math.floor(x * 32)]!++;
  }
  // 1,000 expected each (standard deviation about 31): a stuck pool, or a source that skips or
  // favours characters, falls far outside these bounds
  counts.forEach((count, char) => assert.ok(count > 800 && count < 1200, `character ${char} drawn ${count} times`));
});
