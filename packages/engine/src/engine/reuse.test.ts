import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TaskRunState } from '../domain/states.js';
import type { TaskRunRecord } from '../store/types.js';
import { reusableResults } from './reuse.js';

let counter = 0;
function task(action: string, attempt: number, state: TaskRunState): TaskRunRecord {
  counter += 1;
  return {
    id: `t${counter}`,
    runId: 'old',
    stage: 's',
    action,
    attempt,
    state,
    component: 'inline:x@0.0.0',
    executor: 'local',
    tokenHash: null,
    eventData: null,
    output: { n: counter },
    result: null,
    message: null,
    reason: null,
    exitCode: 0,
    ref: null,
    facts: {},
    steps: {},
    createdAt: counter,
    startedAt: counter,
    endedAt: counter,
    matrix: null,
    statusCount: 0,
    dropped: { statuses: 0, logLines: 0, logBytes: 0 },
  };
}

describe('reusableResults', () => {
  const tasks = [
    task('build', 1, 'succeeded'),
    task('test', 1, 'failed'),
    task('flaky', 1, 'failed'),
    task('flaky', 2, 'succeeded'),
    task('retried-then-failed', 1, 'succeeded'),
    task('retried-then-failed', 2, 'failed'),
    task('optional', 1, 'skipped'),
    task('stopped', 1, 'cancelled'),
    task('broken', 1, 'errored'),
  ];

  test('from failed: the last attempt of each action that succeeded', () => {
    const reuse = reusableResults(tasks, 'failed');
    assert.deepEqual([...reuse.keys()].sort(), ['build', 'flaky']);
    assert.equal(reuse.get('flaky')?.attempt, 2, 'the attempt that succeeded');
  });

  test('from start: nothing', () => {
    assert.equal(reusableResults(tasks, 'start').size, 0);
  });
});
