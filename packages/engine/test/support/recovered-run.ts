import assert from 'node:assert/strict';
import type { Runtime } from '../../src/main.js';

/** An inline action running `script` in `image`, indented for a workflow's `actions:` list. */
export function inlineAction(image: string, name: string, script: string, extra = ''): string {
  const body = script
    .trim()
    .split('\n')
    .map((line) => `          ${line}`)
    .join('\n');
  return `      - name: ${name}\n        image: ${image}\n${extra}        run: |\n${body}\n`;
}

/** A POSIX sh `post URL BODY` that retries while no engine answers (the engine is being restarted). */
const RETRYING_POST = [
  `post() { n=0; until wget -q -O /dev/null --header 'content-type: application/json' --post-data "$2" "$1"; do`,
  `  n=$((n+1)); [ "$n" -lt 300 ] || exit 9; sleep 0.2; done; }`,
].join('\n');

/**
 * The stages of the recovery scenario checked by `assertRecoveredRun`: `work` runs `survivor` (it
 * calls back, then waits for the file `go` in the workspace, which the test writes after the
 * restart) beside `vanished` (a process the crash takes away; its second attempt succeeds); `next`
 * runs `reader`, which reads what the survivor made.
 */
export function recoveryStages(image: string): string {
  return `  - name: work
    actions:
${inlineAction(
  image,
  'survivor',
  `${RETRYING_POST}
post "$CO_COMPONENT_START" ''
post "$CO_TASK_START" '{}'
echo "[COUT] before=crash"
echo "before the crash"
touch "$CO_WORKSPACE/survivor-started"
while [ ! -f "$CO_WORKSPACE/go" ]; do sleep 0.1; done
echo "after the restart"
echo made-by-survivor > "$CO_WORKSPACE/artifact"
post "$CO_TASK_RESULT" '{"status":"success","output":{"survived":true}}'
post "$CO_COMPONENT_STOP" ''`,
)}${inlineAction(
    image,
    'vanished',
    `if [ "$CO_ATTEMPT" = 2 ]; then echo "[COUT] attempt=2"; exit 0; fi
touch "$CO_WORKSPACE/vanished-started"
sleep 300`,
    '        retries: { limit: 1, backoff: 100ms }\n',
  )}  - name: next
    actions:
${inlineAction(image, 'reader', 'echo "[COUT] artifact=$(cat "$CO_WORKSPACE/artifact")"')}`;
}

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
