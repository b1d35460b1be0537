import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mock, test } from 'node:test';
import { MAX_TIMER_MS, setLongTimeout } from './long-timer.js';

const DAY_MS = 24 * 60 * 60 * 1000;

// Node fires a setTimeout of more than 2^31−1 ms after 1 ms: this is what broke `timeout: 25d`.
test('a 25-day timer does not fire at once on the real clock', async () => {
  let fired = false;
  const cancel = setLongTimeout(() => (fired = true), 25 * DAY_MS);
  await sleep(100);
  cancel();
  assert.equal(fired, false);
});

test('a 25-day timer fires after 25 days, not before (fake clock)', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let fired = 0;
    setLongTimeout(() => fired++, 25 * DAY_MS);
    mock.timers.tick(MAX_TIMER_MS);
    assert.equal(fired, 0, 'still waiting after the first slice (24.8 days)');
    mock.timers.tick(25 * DAY_MS - MAX_TIMER_MS - 1);
    assert.equal(fired, 0, 'still waiting 1 ms before the end');
    mock.timers.tick(1);
    assert.equal(fired, 1);
    mock.timers.tick(100 * DAY_MS);
    assert.equal(fired, 1, 'once');
  } finally {
    mock.timers.reset();
  }
});

test('a year-long timer can be cancelled in any slice; short and odd delays behave', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let fired = 0;
    const cancel = setLongTimeout(() => fired++, 365 * DAY_MS);
    mock.timers.tick(100 * DAY_MS);
    cancel();
    cancel();
    mock.timers.tick(365 * DAY_MS);
    assert.equal(fired, 0);
    setLongTimeout(() => fired++, -5);
    setLongTimeout(() => fired++, Number.NaN);
    setLongTimeout(() => fired++, Infinity);
    mock.timers.tick(0);
    assert.equal(fired, 2);
    setLongTimeout(() => fired++, 30);
    mock.timers.tick(29);
    assert.equal(fired, 2);
    mock.timers.tick(1);
    assert.equal(fired, 3);
  } finally {
    mock.timers.reset();
  }
});
