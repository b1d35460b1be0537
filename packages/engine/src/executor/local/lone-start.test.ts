import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoneStartPolicy } from './lone-start.js';

describe('LoneStartPolicy', () => {
  it('starts alone while lone starts are quick, a slow one now and then included', () => {
    const policy = new LoneStartPolicy({ slowMs: 0.5, retryMs: 250, window: 5 });
    for (const ms of [0.2, 0.3, 4.8, 0.2, 0.25, 0.2, 5.1]) {
      assert.equal(policy.alone(0), true);
      policy.record(ms);
    }
    assert.equal(policy.alone(0), true, 'two slow starts of the last five do not make the machine busy');
  });

  it('goes to the pool once most recent lone starts were slow, and tries alone again every retryMs', () => {
    const policy = new LoneStartPolicy({ slowMs: 0.5, retryMs: 250, window: 5 });
    for (const ms of [0.2, 1.4, 1.1, 0.3, 1.6]) policy.record(ms);
    assert.equal(policy.alone(1000), true, 'the first try after turning busy');
    assert.equal(policy.alone(1100), false);
    assert.equal(policy.alone(1249), false);
    assert.equal(policy.alone(1250), true, 'tried again after retryMs');
    assert.equal(policy.alone(1251), false);
  });

  it('starts alone again once the recent lone starts are quick again', () => {
    const policy = new LoneStartPolicy({ slowMs: 0.5, retryMs: 250, window: 3 });
    for (const ms of [1.2, 1.5, 1.3]) policy.record(ms);
    policy.alone(0);
    assert.equal(policy.alone(10), false);
    for (const ms of [0.2, 0.2]) policy.record(ms);
    assert.equal(policy.alone(20), true);
  });
});
