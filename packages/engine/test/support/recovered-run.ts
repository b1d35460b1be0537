import assert from 'node:assert/strict';
import type { Runtime } from '../../src/main.js';

/**
 * The recovery scenario shared by the docker and kubernetes executors' kill -9 tests: a new engine
 * on the crashed one's store resumes exactly `runId`, whose `survivor` action (its component still
 * running) is re-attached, not retried, with its log whole; whose `vanished` action (its component
 * gone) is recorded lost and retried once; and whose `reader` action reads what the survivor made.
 */
export async function assertRecoveredRun(runtime: Runtime, runId: string): Promise<void> {
  const resumed = await runtime.engine.recover();
  assert.deepEqual(
    resumed.map((r) => r.id),
    [runId],
  );
  const run = await runtime.engine.waitForRun(runId);
  const tasks = await runtime.store.taskRuns.listByRun(run.id);
  const of = (action: string) => tasks.filter((t) => t.action === action).sort((a, b) => a.attempt - b.attempt);
  assert.equal(run.state, 'succeeded', `${run.reason}\n${JSON.stringify(tasks, null, 1)}`);

  const [survivor, ...more] = of('survivor');
  assert.equal(more.length, 0, 'the survivor was re-attached, not retried');
  assert.equal(survivor!.state, 'succeeded', survivor!.reason ?? '');
  assert.deepEqual(survivor!.output, { before: 'crash', survived: true });
  assert.ok(survivor!.steps['component-stop'] !== undefined, 'callbacks were accepted after the restart');
  const lines = (await runtime.store.logs.read(survivor!.id)).map((l) => l.line);
  assert.equal(lines.filter((l) => l === 'before the crash').length, 1, lines.join('\n'));
  assert.equal(lines.filter((l) => l === 'after the restart').length, 1, lines.join('\n'));

  const [lost, retried] = of('vanished');
  assert.equal(lost!.state, 'errored');
  assert.match(lost!.reason ?? '', /^lost: /);
  assert.equal(retried!.state, 'succeeded');
  assert.deepEqual(retried!.output, { attempt: '2' });
  assert.deepEqual(of('reader')[0]!.output, { artifact: 'made-by-survivor' });
}
