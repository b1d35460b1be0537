import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cancellation } from './cancellation.js';

test('stopping a parent stops its children; a child stops alone', () => {
  const run = new Cancellation();
  const stageA = new Cancellation(run);
  const stageB = new Cancellation(run);
  const seen: string[] = [];
  stageA.onStop((r) => seen.push(`A:${r.kind}`));
  stageB.onStop((r) => seen.push(`B:${r.kind}`));
  stageA.stop({ kind: 'fail-fast', message: 'x' });
  assert.equal(stageB.stopped, false);
  run.stop({ kind: 'cancel', message: 'y' });
  assert.deepEqual(seen, ['A:fail-fast', 'B:cancel']);
  assert.equal(stageA.reason?.kind, 'fail-fast');
});

test('sleep ends early when stopped', async () => {
  const c = new Cancellation();
  const started = Date.now();
  const slept = c.sleep(10_000);
  setTimeout(() => c.stop({ kind: 'cancel', message: '' }), 10);
  assert.equal(await slept, false);
  assert.ok(Date.now() - started < 5000);
});
