import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startRecordingServer } from '../test/recording-server.js';
import { ComponentFailure } from './component-failure.js';
import { runComponent, type TaskContext } from './run-component.js';

const quiet = { setExitCode: false, retryDelayMs: 10 } as const;

function collector(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

describe('runComponent', () => {
  test('makes the five calls in contract order and reports the returned output', async () => {
    await using server = await startRecordingServer({ repo: 'r' });
    let seen: TaskContext<{ repo: string }> | undefined;
    const outcome = await runComponent<{ repo: string }, { built: string }>(
      async (ctx) => {
        seen = ctx;
        await ctx.status({ message: 'half', progress: 0.5 });
        return { built: ctx.data.repo };
      },
      { ...quiet, env: server.env({ inlineData: true }) },
    );
    assert.deepEqual(
      server.calls.map((c) => `${c.method} ${c.step}`),
      ['POST component-start', 'POST task-start', 'POST task-status', 'POST task-result', 'POST component-stop'],
    );
    assert.ok(server.calls.every((c) => c.contentType === 'application/json'));
    assert.deepEqual(server.calls[0]?.body, {});
    assert.deepEqual(server.calls[2]?.body, { message: 'half', progress: 0.5 });
    assert.deepEqual(server.calls[3]?.body, { status: 'success', output: { built: 'r' } });
    assert.deepEqual(outcome, { status: 'success', output: { built: 'r' }, exitCode: 0 });
    assert.equal(seen?.runId, '01RUN');
    assert.equal(seen?.taskRunId, '01TASKRUN');
    assert.equal(seen?.workflow, 'wf');
    assert.equal(seen?.stage, 'build');
    assert.equal(seen?.action, 'compile');
    assert.equal(seen?.attempt, 2);
    assert.equal(seen?.workspace, '/tmp/ws');
  });

  test('GETs CO_DATA_URL when CO_DATA is absent, before TASK_START', async () => {
    const big = { blob: 'x'.repeat(70_000), n: 3 };
    await using server = await startRecordingServer(big);
    let received: unknown;
    await runComponent(
      (ctx) => {
        received = ctx.data;
      },
      { ...quiet, env: server.env({ inlineData: false }) },
    );
    assert.deepEqual(received, big);
    assert.deepEqual(
      server.calls.map((c) => `${c.method} ${c.step}`),
      ['POST component-start', 'GET data', 'POST task-start', 'POST task-result', 'POST component-stop'],
    );
    assert.deepEqual(server.calls[3]?.body, { status: 'success' });
  });

  test('a throwing handler reports a failure with its message, stops, and exits 1', async () => {
    await using server = await startRecordingServer({});
    const { lines, log } = collector();
    const outcome = await runComponent(
      () => {
        throw new Error('compiler exploded');
      },
      { ...quiet, log, env: server.env({ inlineData: true }) },
    );
    assert.deepEqual(
      server.calls.map((c) => c.step),
      ['component-start', 'task-start', 'task-result', 'component-stop'],
    );
    assert.deepEqual(server.calls[2]?.body, { status: 'failure', message: 'compiler exploded' });
    assert.deepEqual(outcome, { status: 'failure', message: 'compiler exploded', exitCode: 1 });
    assert.ok(lines.some((l) => l.includes('compiler exploded')));
  });

  test('ComponentFailure fails with an output', async () => {
    await using server = await startRecordingServer({});
    await runComponent(
      () => {
        throw new ComponentFailure('2 tests failed', { passed: 3, failed: 2 });
      },
      { ...quiet, log: () => {}, env: server.env({ inlineData: true }) },
    );
    assert.deepEqual(server.calls[2]?.body, {
      status: 'failure',
      message: '2 tests failed',
      output: { passed: 3, failed: 2 },
    });
  });

  test('a non-object result is a failure', async () => {
    await using server = await startRecordingServer({});
    const outcome = await runComponent(() => Promise.resolve([1, 2] as unknown as object), {
      ...quiet,
      log: () => {},
      env: server.env({ inlineData: true }),
    });
    assert.equal(outcome.exitCode, 1);
    assert.match(outcome.message ?? '', /an array; outputs must be a JSON object/);
  });

  test('an output the engine rejects (400) is reported again as a failure', async () => {
    await using server = await startRecordingServer(
      {},
      {
        'task-result': [{ status: 400, body: { error: 'output.size must be integer' } }],
      },
    );
    const outcome = await runComponent(() => ({ size: 'big' }), {
      ...quiet,
      log: () => {},
      env: server.env({ inlineData: true }),
    });
    const results = server.calls.filter((c) => c.step === 'task-result').map((c) => c.body);
    assert.deepEqual(results, [
      { status: 'success', output: { size: 'big' } },
      { status: 'failure', message: 'the engine rejected the output: output.size must be integer' },
    ]);
    assert.equal(server.calls.at(-1)?.step, 'component-stop');
    assert.equal(outcome.exitCode, 1);
  });

  test('sends nothing more when COMPONENT_START is refused', async () => {
    await using server = await startRecordingServer(
      {},
      {
        'component-start': [{ status: 404, body: { error: 'not found' } }],
      },
    );
    let ran = false;
    const { lines, log } = collector();
    const outcome = await runComponent(
      () => {
        ran = true;
      },
      { ...quiet, log, env: server.env({ inlineData: true }) },
    );
    assert.equal(ran, false);
    assert.deepEqual(
      server.calls.map((c) => c.step),
      ['component-start'],
    );
    assert.equal(outcome.exitCode, 1);
    assert.match(lines.join('\n'), /COMPONENT_START was refused from the engine \(HTTP 404\): not found/);
  });

  test('invalid CO_DATA is reported as a failure after TASK_START', async () => {
    await using server = await startRecordingServer({});
    const outcome = await runComponent(() => ({}), {
      ...quiet,
      log: () => {},
      env: { ...server.env(), CO_DATA: '{nope' },
    });
    assert.deepEqual(
      server.calls.map((c) => c.step),
      ['component-start', 'task-start', 'task-result', 'component-stop'],
    );
    assert.match(outcome.message ?? '', /^CO_DATA is not valid JSON/);
  });

  test('sets process.exitCode by default', async () => {
    await using server = await startRecordingServer({});
    const before = process.exitCode;
    try {
      await runComponent(
        () => {
          throw new Error('no');
        },
        { log: () => {}, env: server.env({ inlineData: true }) },
      );
      assert.equal(process.exitCode, 1);
      await runComponent(() => ({ ok: true }), { log: () => {}, env: server.env({ inlineData: true }) });
      assert.equal(process.exitCode, 0);
    } finally {
      process.exitCode = before ?? 0;
    }
  });

  test('dev mode: data from argv[2], calls logged, no HTTP', async () => {
    const { lines, log } = collector();
    const outcome = await runComponent<{ name: string }>(
      async (ctx) => {
        await ctx.status({ progress: 1 });
        return { hello: ctx.data.name };
      },
      { ...quiet, log, env: { PATH: '/bin' }, argv: ['node', 'main.mjs', '{"name":"dev"}'] },
    );
    assert.deepEqual(outcome, { status: 'success', output: { hello: 'dev' }, exitCode: 0 });
    assert.deepEqual(lines, [
      '[pilotage dev] COMPONENT_START',
      '[pilotage dev] TASK_START',
      '[pilotage dev] TASK_STATUS {"progress":1}',
      '[pilotage dev] TASK_RESULT {"status":"success","output":{"hello":"dev"}}',
      '[pilotage dev] COMPONENT_STOP',
    ]);
  });

  test('dev mode without argument gives {}', async () => {
    let received: unknown;
    await runComponent(
      (ctx) => {
        received = ctx.data;
      },
      { ...quiet, log: () => {}, env: {}, argv: ['node', 'main.mjs'] },
    );
    assert.deepEqual(received, {});
  });
});
