import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canMoveRun, canMoveTask, isRunEnded, isTaskEnded, outcomeOf, RUN_STATES, TASK_RUN_STATES } from './states.js';

test('ended states have no way out', () => {
  for (const s of RUN_STATES) if (isRunEnded(s)) for (const t of RUN_STATES) assert.equal(canMoveRun(s, t), false);
  for (const s of TASK_RUN_STATES)
    if (isTaskEnded(s)) for (const t of TASK_RUN_STATES) assert.equal(canMoveTask(s, t), false);
});

test('the lifecycle of DESIGN.md section 4', () => {
  assert.ok(canMoveRun('queued', 'running'));
  assert.ok(canMoveRun('running', 'succeeded'));
  assert.ok(!canMoveRun('queued', 'succeeded'));
  assert.ok(canMoveTask('pending', 'starting'));
  assert.ok(canMoveTask('starting', 'running'));
  assert.ok(canMoveTask('pending', 'skipped'));
  assert.ok(!canMoveTask('running', 'pending'));
  assert.ok(!canMoveTask('running', 'skipped'));
});

test('outcomes map to CDEvents words', () => {
  assert.equal(outcomeOf('succeeded'), 'success');
  assert.equal(outcomeOf('failed'), 'failure');
  assert.equal(outcomeOf('errored'), 'error');
  assert.equal(outcomeOf('cancelled'), 'cancel');
  assert.equal(outcomeOf('running'), undefined);
});
