import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowSlots } from './workflow-slots.js';

const settled = async <T>(promise: Promise<T>): Promise<{ value: T } | 'pending'> =>
  Promise.race([promise.then((value) => ({ value })), new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);

describe('WorkflowSlots', () => {
  test('grants up to the limit at once, then in arrival order as slots free', async () => {
    const slots = new WorkflowSlots();
    const first = slots.request('w', 2);
    const second = slots.request('w', 2);
    const third = slots.request('w', 2);
    const fourth = slots.request('w', 2);
    const releaseFirst = (await first.granted)!;
    assert.ok(await second.granted);
    assert.equal(await settled(third.granted), 'pending');
    assert.equal(slots.held('w'), 2);
    assert.equal(slots.waiting('w'), 2);
    releaseFirst();
    releaseFirst(); // a second call does nothing
    assert.ok(await third.granted);
    assert.equal(await settled(fourth.granted), 'pending');
    assert.equal(slots.held('w'), 2);
  });

  test('workflows are counted apart', async () => {
    const slots = new WorkflowSlots();
    assert.ok(await slots.request('a', 1).granted);
    assert.ok(await slots.request('b', 1).granted);
    assert.equal(await settled(slots.request('a', 1).granted), 'pending');
  });

  test('take() counts a run over the cap (recovery), and waiters respect it', async () => {
    const slots = new WorkflowSlots();
    const release = slots.take('w');
    slots.take('w');
    const waiter = slots.request('w', 1);
    assert.equal(await settled(waiter.granted), 'pending');
    release();
    assert.equal(await settled(waiter.granted), 'pending', 'still one held, the cap is 1');
  });

  test('an aborted waiter resolves undefined and no longer blocks the ones after it', async () => {
    const slots = new WorkflowSlots();
    const release = (await slots.request('w', 1).granted)!;
    const blocked = slots.request('w', 1);
    const after = slots.request('w', 1);
    blocked.abort();
    blocked.abort();
    assert.equal(await blocked.granted, undefined);
    release();
    assert.ok(await after.granted);
    assert.equal(slots.waiting('w'), 0);
  });

  test('a waiter with a higher cap does not overtake an earlier one (strict order)', async () => {
    const slots = new WorkflowSlots();
    (await slots.request('w', 1).granted)!;
    const low = slots.request('w', 1);
    const high = slots.request('w', 5);
    assert.equal(await settled(high.granted), 'pending');
    low.abort();
    assert.ok(await high.granted, 'once the earlier waiter is gone, the next one is served');
  });
});
