import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from '../domain/errors.js';
import { CallbackRegistry } from './registry.js';
import { hashToken } from './tokens.js';
import type { AcceptedStep } from './types.js';

test('a session re-opened by token hash continues the recorded sequence, and its token reaches it', async () => {
  const registry = new CallbackRegistry();
  const accepted: string[] = [];
  const session = registry.reopen(hashToken('the-token'), {
    taskRunId: 'TR',
    runId: 'R',
    eventData: { a: 1 },
    listener: {
      async onStep(step: AcceptedStep) {
        accepted.push(step.step);
      },
    },
    restored: {
      seen: ['component-start', 'task-start', 'task-result'],
      result: { status: 'success', output: { n: 1 } },
    },
  });
  assert.equal(registry.lookup('the-token'), session, 'the raw token finds the re-opened session');
  assert.deepEqual([...session.seen], ['component-start', 'task-start', 'task-result']);
  assert.deepEqual(session.result, { status: 'success', output: { n: 1 } });

  // repeats of what was recorded before the restart are idempotent, not out of order
  assert.equal((await session.submit('task-start', '{}')).status, 200);
  assert.equal((await session.submit('task-result', '{"status":"success","output":{"n":1}}')).status, 200);
  assert.equal((await session.submit('task-result', '{"status":"failure"}')).status, 409, 'a different result');
  assert.equal((await session.submit('component-stop', '')).status, 200);
  assert.deepEqual(accepted, ['component-stop'], 'only the new step reached the listener');

  assert.throws(
    () =>
      registry.reopen(hashToken('the-token'), {
        taskRunId: 'TR',
        runId: 'R',
        eventData: null,
        listener: { onStep: async () => undefined },
      }),
    ConflictError,
  );
});
