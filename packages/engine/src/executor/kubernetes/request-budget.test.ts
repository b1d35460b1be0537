import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBudget } from './request-budget.js';

/** A budget on a fake clock: sleeping advances it, and every sleep is recorded. */
function fakeBudget(qps: number, burst: number) {
  let now = 0;
  const sleeps: number[] = [];
  const budget = new RequestBudget(
    qps,
    burst,
    () => now,
    async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  );
  return { budget, sleeps, at: () => now, advance: (ms: number) => (now += ms) };
}

describe('RequestBudget (QPS and burst)', () => {
  test('a burst goes at once, then requests are spaced at 1/qps, in order', async () => {
    const { budget, at } = fakeBudget(10, 3);
    const times: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => budget.take('create pod').then(() => times.push(at()))));
    assert.deepEqual(times, [0, 0, 0, 100, 200, 300]);
  });

  test('idle time refills the bucket, up to the burst only', async () => {
    const { budget, sleeps, advance } = fakeBudget(2, 2);
    await budget.take('a');
    await budget.take('a');
    advance(10_000);
    await budget.take('a');
    await budget.take('a');
    assert.deepEqual(sleeps, [], 'two tokens came back, not twenty');
    await budget.take('a');
    assert.deepEqual(sleeps, [500]);
  });

  test('requests are counted by kind', async () => {
    const { budget } = fakeBudget(100, 100);
    await budget.take('create pod');
    await budget.take('delete pod');
    await budget.take('create pod');
    assert.deepEqual(budget.taken(), { 'create pod': 2, 'delete pod': 1 });
  });

  test('a budget of nothing is refused', () => {
    assert.throws(() => new RequestBudget(0, 1), RangeError);
  });
});
