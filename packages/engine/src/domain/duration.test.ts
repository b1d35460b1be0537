import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { retryDelayMs, shouldRetry } from './retry.js';

test('durations', () => {
  const table: [string | number, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['2', 2000],
    [1.5, 1500],
  ];
  for (const [input, ms] of table) assert.equal(parseDurationMs(input), ms, String(input));
  for (const bad of ['', 'ten', '10x', '5m foo', 'm5']) assert.throws(() => parseDurationMs(bad), /invalid duration/);
  assert.equal(formatDurationMs(850), '850ms');
  assert.equal(formatDurationMs(12_340), '12.3s');
  assert.equal(formatDurationMs(245_000), '4m05s');
});

test('retry backoff grows by the factor and is capped', () => {
  const p = { limit: 3, backoffMs: 100, factor: 2, maxBackoffMs: 300 };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((a) => retryDelayMs(p, a)),
    [0, 100, 200, 300, 300],
  );
  assert.equal(shouldRetry(p, 3, 'failed'), true);
  assert.equal(shouldRetry(p, 4, 'failed'), false);
  assert.equal(shouldRetry(p, 1, 'cancelled'), false);
  assert.equal(shouldRetry(p, 1, 'succeeded'), false);
});
