import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, type Harness } from '../support/harness.js';

/**
 * The component contract (DESIGN.md section 3), end to end through a real executor: real
 * processes or containers running busybox `sh` + `wget`, real HTTP, a real SQLite file.
 * One suite, run by each executor's test file with its own harness (local, docker).
 *
 * Scripts only use what busybox has, so the same workflow text runs on every executor.
 */
export function defineContractSuite(name: string, makeHarness: () => Promise<Harness>, image: string): void {
  describe(`component contract on the ${name} executor`, { concurrency: false }, () => {
    let h: Harness;
    before(async () => {
      h = await makeHarness();
    });
    after(async () => {
      await h?.close();
    });

    const post = `post() { wget -q -O /dev/null --header 'content-type: application/json' --post-data "$2" "$1"; }`;
    const action = (script: string, extra = '') => `
stages:
  - name: only
    actions:
      - name: task
        image: ${image}
        run: |
${script
  .trim()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
${extra}`;

    test('every callback in order: steps, status, output and result recorded', async () => {
      const { run, byAction } = await h.run(
        `name: in-order
inputs: { type: object, properties: { name: { type: string, default: world } } }
stages:
  - name: only
    actions:
      - name: task
        image: ${image}
        with: { name: "\${{ inputs.name }}" }
        run: |
          set -e
          ${post}
          post "$CO_COMPONENT_START" ''
          post "$CO_TASK_START" '{}'
          post "$CO_TASK_STATUS" '{"message":"half way","progress":0.5,"output":{"partial":true}}'
          echo "working for $CO_INPUT_NAME"
          post "$CO_TASK_RESULT" "{\\"status\\":\\"success\\",\\"output\\":{\\"greeting\\":\\"hello $CO_INPUT_NAME\\"}}"
          post "$CO_COMPONENT_STOP" ''
`,
        { name: 'pilot' },
      );
      assert.equal(run.state, 'succeeded', run.reason ?? '');
      const task = byAction.get('task')!;
      assert.equal(task.state, 'succeeded');
      assert.deepEqual(task.output, { greeting: 'hello pilot' });
      assert.equal(task.result, 'success');
      assert.deepEqual(Object.keys(task.steps).sort(), [
        'component-start',
        'component-stop',
        'task-result',
        'task-start',
        'task-status',
      ]);
      const order = Object.entries(task.steps)
        .sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0))
        .map(([s]) => s);
      assert.deepEqual(order.slice(0, 2), ['component-start', 'task-start']);
      const statuses = await h.runtime.store.statuses.list(task.id);
      assert.equal(statuses.length, 1);
      assert.equal(statuses[0]!.message, 'half way');
      assert.equal(statuses[0]!.progress, 0.5);
      const logs = await h.runtime.store.logs.read(task.id);
      assert.ok(
        logs.some((l) => l.line === 'working for pilot'),
        'stdout line stored',
      );
      assert.deepEqual(await h.leftovers(run.id), []);
    });

    test('driven by the test over real HTTP: 404, 409, 400, idempotent repeats, nothing corrupted', async () => {
      const component = await h.write(
        'driven.component.yaml',
        `apiVersion: pilotage.dev/v1
kind: Component
name: driven
version: 1.0.0
image: ${image}
command: ["sh", "-c", "env | grep '^CO_' > \\"$CO_WORKSPACE/env-$CO_ACTION\\"; while [ ! -f \\"$CO_WORKSPACE/exit-$CO_ACTION\\" ]; do sleep 0.05; done; exit $(cat \\"$CO_WORKSPACE/exit-$CO_ACTION\\")"]
outputs: { type: object, properties: { count: { type: integer } }, additionalProperties: false }
`,
      );
      const started = await h.start(`name: driven
stages:
  - name: only
    actions:
      - name: driven
        component: ${component}
`);
      const workspace = join(h.runtime.config.workspaceRoot, started.id);
      const envText = await eventually(
        () =>
          readFile(join(workspace, 'env-driven'), 'utf8').then(
            (t) => (t.includes('CO_COMPONENT_STOP=') ? t : undefined),
            () => undefined,
          ),
        20_000,
        'the component to write its env',
      );
      const env = Object.fromEntries(
        envText
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const call = async (url: string, body?: string, method = 'POST') => {
        const response = await fetch(url, {
          method,
          ...(method === 'POST' ? { body: body ?? '' } : {}),
          headers: { 'content-type': 'application/json' },
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      const taskId = env.CO_TASK_RUN_ID!;
      const state = async () => (await h.runtime.store.taskRuns.get(taskId))!;

      // a wrong token, or one that belongs to nobody: 404 with no hint, and nothing changes
      const wrong = env.CO_TASK_START!.replace(/callbacks\/[^/]+\//, 'callbacks/not-a-real-token/');
      const r404 = await call(wrong, '{}');
      assert.equal(r404.status, 404);
      assert.doesNotMatch(JSON.stringify(r404.body), new RegExp(started.id));
      assert.deepEqual((await state()).steps, {});

      // out of order: TASK_START before COMPONENT_START
      const early = await call(env.CO_TASK_START!, '{}');
      assert.equal(early.status, 409);
      assert.deepEqual((await state()).steps, {});

      assert.equal((await call(env.CO_COMPONENT_START!, '')).status, 200);
      const firstSeen = (await state()).steps['component-start'];
      assert.equal((await call(env.CO_COMPONENT_START!, '')).status, 200, 'an identical repeat is idempotent');
      assert.equal((await state()).steps['component-start'], firstSeen);

      // the event data over REST
      const data = await call(env.CO_DATA_URL!, undefined, 'GET');
      assert.equal(data.status, 200);
      assert.deepEqual(data.body, {});

      assert.equal((await call(env.CO_TASK_START!, '{}')).status, 200);
      assert.equal((await call(env.CO_TASK_STATUS!, '{"message": ')).status, 400, 'malformed JSON');
      assert.equal((await call(env.CO_TASK_STATUS!, '{"mesage":"typo"}')).status, 400, 'unknown key');
      assert.equal((await call(env.CO_TASK_STATUS!, '{"progress":2}')).status, 400, 'progress out of 0..1');
      assert.equal((await call(env.CO_TASK_STATUS!, '{"message":"one","progress":0.1}')).status, 200);
      const badOutput = await call(env.CO_TASK_RESULT!, '{"status":"success","output":{"count":"three"}}');
      assert.equal(badOutput.status, 400, 'output fails the outputs schema');
      assert.match(JSON.stringify(badOutput.body), /count/);
      assert.equal((await state()).result, null, 'a rejected result changes nothing');

      const result = '{"status":"success","output":{"count":3},"message":"done"}';
      assert.equal((await call(env.CO_TASK_RESULT!, result)).status, 200);
      assert.equal((await call(env.CO_TASK_RESULT!, result)).status, 200, 'identical repeat');
      assert.equal((await call(env.CO_TASK_RESULT!, '{"status":"failure"}')).status, 409, 'a different second result');
      assert.deepEqual((await state()).output, { count: 3 }, 'output recorded as soon as reported');
      assert.equal((await call(env.CO_COMPONENT_STOP!, '')).status, 200);
      assert.equal((await call(env.CO_TASK_STATUS!, '{"message":"late"}')).status, 409, 'nothing after COMPONENT_STOP');

      await writeFile(join(workspace, 'exit-driven'), '0');
      const run = await h.runtime.engine.waitForRun(started.id);
      assert.equal(run.state, 'succeeded', run.reason ?? '');
      const ended = await state();
      assert.equal(ended.state, 'succeeded');
      assert.deepEqual(ended.output, { count: 3 });
      assert.equal(ended.message, 'done');
      const late = await call(env.CO_TASK_RESULT!, result);
      assert.equal(late.status, 409, 'after the task run ended');
      assert.match(JSON.stringify(late.body), /succeeded/);
      assert.deepEqual(await h.leftovers(run.id), []);
    });

    test('a crash before TASK_RESULT fails the task with the exit code', async () => {
      const { run, byAction } = await h.run(
        `name: crash\n${action(`${post}\npost "$CO_COMPONENT_START" ''\npost "$CO_TASK_START" ''\necho dying >&2\nexit 3`)}`,
      );
      assert.equal(run.state, 'failed');
      const task = byAction.get('task')!;
      assert.equal(task.state, 'failed');
      assert.equal(task.exitCode, 3);
      assert.match(task.reason ?? '', /3/);
      const logs = await h.runtime.store.logs.read(task.id);
      assert.ok(logs.some((l) => l.stream === 'stderr' && l.line === 'dying'));
    });

    test('a non-zero exit after reporting success turns the result into failure', async () => {
      const { byAction } = await h.run(
        `name: liar\n${action(
          `${post}\npost "$CO_COMPONENT_START" ''\npost "$CO_TASK_START" ''\npost "$CO_TASK_RESULT" '{"status":"success","output":{"a":1}}'\npost "$CO_COMPONENT_STOP" ''\nexit 2`,
        )}`,
      );
      const task = byAction.get('task')!;
      assert.equal(task.state, 'failed');
      assert.equal(task.exitCode, 2);
      assert.match(task.reason ?? '', /reported success but exited with code 2/);
    });

    test('without callbacks the exit code decides; strict components must call every step', async () => {
      const ok = await h.run(`name: plain-ok\n${action('echo fine')}`);
      assert.equal(ok.byAction.get('task')!.state, 'succeeded');
      const failed = await h.runComponent(
        'strict',
        `apiVersion: pilotage.dev/v1
kind: Component
name: strict-one
version: 1.0.0
image: ${image}
strict: true
command: ["sh", "-c", "echo no callbacks"]
`,
      );
      const task = failed.byAction.get('task')!;
      assert.equal(task.state, 'failed');
      assert.match(task.reason ?? '', /COMPONENT_START|component-start/i);
    });

    test('a hang past the timeout is killed, with its children, and fails with reason timeout', async () => {
      const { run, byAction } = await h.run(`name: hang\n${action('sleep 300 &\nsleep 300', '        timeout: 1s')}`);
      const task = byAction.get('task')!;
      assert.equal(task.state, 'failed');
      assert.equal(task.reason, 'timeout');
      assert.ok(task.endedAt! - task.startedAt! < 15_000, 'killed within the grace period');
      assert.deepEqual(
        await eventually(
          async () => ((await h.leftovers(run.id)).length === 0 ? [] : undefined),
          10_000,
          'no leftovers',
        ),
        [],
      );
    });

    test('event data over 64 KiB comes only through CO_DATA_URL', async () => {
      const blob = 'x'.repeat(70_000);
      const { run, byAction } = await h.run(
        `name: big
inputs: { type: object, properties: { blob: { type: string } } }
stages:
  - name: only
    actions:
      - name: task
        image: ${image}
        with: { blob: "\${{ inputs.blob }}" }
        run: |
          if [ -n "$CO_DATA" ]; then echo "CO_DATA was set"; exit 1; fi
          wget -q -O "$CO_WORKSPACE/data.json" "$CO_DATA_URL"
`,
        { blob },
      );
      assert.equal(byAction.get('task')!.state, 'succeeded', byAction.get('task')!.reason ?? '');
      const fetched = JSON.parse(await readFile(join(h.runtime.config.workspaceRoot, run.id, 'data.json'), 'utf8'));
      assert.deepEqual(fetched, { blob });
    });

    test('[COUT] lines set outputs and the result of a component with no HTTP client', async () => {
      const { byAction } = await h.run(
        `name: cout\n${action('echo "[COUT] ARTIFACT=app.tar"\necho "[COUT] SIZE=42"\necho "[COUT] CO_RESULT=false"')}`,
      );
      const task = byAction.get('task')!;
      assert.equal(task.state, 'failed');
      assert.deepEqual(task.output, { ARTIFACT: 'app.tar', SIZE: '42' });
    });

    test('endpoint: the engine POSTs the event data after COMPONENT_START', async () => {
      const { byAction } = await h.runComponent(
        'endpoint',
        `apiVersion: pilotage.dev/v1
kind: Component
name: listener
version: 1.0.0
image: ${image}
endpoint: { port: 18089, path: /event }
command:
  - sh
  - -c
  - |
    set -e
    ${post}
    NC="nc"; if command -v busybox >/dev/null 2>&1; then NC="busybox nc"; fi
    PORT="\${CO_ENDPOINT_PORT:-18089}"
    printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n' | $NC -l -p "$PORT" > "$CO_WORKSPACE/request.txt" &
    listener=$!
    sleep 0.2
    post "$CO_COMPONENT_START" ''
    wait $listener
    post "$CO_TASK_START" ''
    body=$(tail -n 1 "$CO_WORKSPACE/request.txt")
    post "$CO_TASK_RESULT" "{\\"status\\":\\"success\\",\\"output\\":{\\"received\\":$body}}"
    post "$CO_COMPONENT_STOP" ''
`,
        { hello: 'endpoint' },
      );
      const task = byAction.get('task')!;
      assert.equal(task.state, 'succeeded', task.reason ?? '');
      assert.deepEqual(task.output, { received: { hello: 'endpoint' } });
    });
  });
}
