import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, newToken, pooledRandom } from './ids.js';

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

test('newToken gives distinct 256-bit base64url tokens, never reusing bytes across pool refills', () => {
  // 1,000 tokens draw the 4 KiB token pool about 8 times over
  const tokens = Array.from({ length: 1_000 }, () => newToken());
  assert.equal(new Set(tokens).size, tokens.length);
  const chunks = new Set<string>();
  for (const token of tokens) {
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const bytes = Buffer.from(token, 'base64url');
    assert.equal(bytes.length, 32);
    // no 8-byte run of one token appears in another: bytes are not served twice
    for (let i = 0; i < 32; i += 8) {
      const chunk = bytes.subarray(i, i + 8).toString('hex');
      assert.ok(!chunks.has(chunk), 'a token reused bytes of an earlier one');
      chunks.add(chunk);
    }
  }
});
