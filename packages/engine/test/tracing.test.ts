import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { OutboxRecord, RunRecord, TaskRunRecord } from '../src/store/types.js';
import { createHarness, type Harness } from './support/harness.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

const SECRET = 'Tr4ce-secret-5e1f0c9d';
const PYTHON_COMPONENT = fileURLToPath(new URL('./fixtures/tracing/traced_component.py', import.meta.url));
const INCOMING = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Two stages: a full-contract action, a retried one whose first failure names a secret, a skipped one, and a Python component joining the trace. */
const WORKFLOW = `name: traced
inputs:
  type: object
  properties: { collector: { type: string } }
stages:
  - name: build
    actions:
      - name: compile
        run: |
          post() { curl -sS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          post "$CO_COMPONENT_START" '{}'
          post "$CO_TASK_START" '{}'
          post "$CO_TASK_STATUS" '{"progress":0.5,"message":"halfway"}'
          post "$CO_TASK_RESULT" '{"status":"success","output":{"artifact":"a.tgz"}}'
          post "$CO_COMPONENT_STOP" '{}'
      - name: flaky
        retries: { limit: 1, backoff: 10ms }
        env: { TOKEN: "\${{ secrets.DEPLOY_TOKEN }}" }
        run: |
          post() { curl -sS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          if [ ! -f flaky.done ]; then
            touch flaky.done
            echo "failing with $TOKEN"
            post "$CO_COMPONENT_START" '{}'
            post "$CO_TASK_START" '{}'
            post "$CO_TASK_RESULT" "{\\"status\\":\\"failure\\",\\"message\\":\\"rejected token $TOKEN\\"}"
            exit 3
          fi
  - name: join
    actions:
      - name: python
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: "\${{ inputs.collector }}" }
        run: python3 '${PYTHON_COMPONENT}'
      - name: never
        if: "\${{ inputs.collector == '' }}"
        run: exit 1
`;

/** The spans of one trace, with lookups by parent. */
function treeOf(spans: readonly ReceivedSpan[], traceId: string) {
  const mine = spans.filter((s) => s.traceId === traceId);
  const children = (parent: ReceivedSpan, prefix = ''): ReceivedSpan[] =>
    mine.filter((s) => s.parentSpanId === parent.spanId && s.name.startsWith(prefix));
  const one = (parent: ReceivedSpan, name: string): ReceivedSpan => {
    const found = mine.filter((s) => s.parentSpanId === parent.spanId && s.name === name);
    assert.equal(found.length, 1, `one span "${name}" under "${parent.name}"; got ${found.length}`);
    return found[0]!;
  };
  return { mine, children, one };
}

describe('OpenTelemetry traces (a real run exported to an in-test OTLP/HTTP receiver)', () => {
  let receiver: OtlpReceiver;
  let h: Harness;
  let run: RunRecord;
  let tasks: TaskRunRecord[];
  let outbox: OutboxRecord[];
  let spans: ReceivedSpan[];
  let runSpan: ReceivedSpan;

  before(async () => {
    receiver = await startOtlpReceiver();
    h = await createHarness({
      executor: 'local',
      config: { otelEndpoint: receiver.url, otelServiceName: 'pilotage-test' },
      runtime: { secrets: { DEPLOY_TOKEN: SECRET } },
    });
    const plan = await h.plan(WORKFLOW);
    const started = await h.runtime.engine.startRun(
      plan,
      { collector: receiver.url },
      { trigger: { kind: 'manual' }, traceParent: { traceparent: INCOMING, tracestate: 'vendor=abc' } },
    );
    run = await h.runtime.engine.waitForRun(started.id);
    tasks = await h.runtime.store.taskRuns.listByRun(run.id);
    outbox = await h.runtime.store.outbox.listByRun(run.id);
    // closing flushes the batch of spans still waiting
    await h.runtime.close();
    await receiver.waitFor((all) => all.some((s) => s.name === 'run traced'));
    spans = receiver.spans;
    runSpan = spans.find((s) => s.name === 'run traced')!;
  });
  after(async () => {
    await h?.close();
    await receiver?.close();
  });

  test('the run succeeded after one retry', () => {
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.deepEqual(tasks.map((t) => `${t.action}#${t.attempt}:${t.state}`).sort(), [
      'compile#1:succeeded',
      'flaky#1:failed',
      'flaky#2:succeeded',
      'never#1:skipped',
      'python#1:succeeded',
    ]);
  });

  test("the run span joins the caller's trace and names the run", () => {
    assert.equal(runSpan.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(runSpan.parentSpanId, '00f067aa0ba902b7');
    assert.equal(runSpan.attributes['pilotage.run.id'], run.id);
    assert.equal(runSpan.attributes['pilotage.workflow'], 'traced');
    assert.equal(runSpan.attributes['pilotage.state'], 'succeeded');
    assert.equal(runSpan.resource['service.name'], 'pilotage-test');
  });

  test('the span tree is the run: stages, then actions, then attempts', () => {
    const { one, children } = treeOf(spans, runSpan.traceId);
    assert.deepEqual(
      children(runSpan, 'stage ')
        .map((s) => s.name)
        .sort(),
      ['stage build', 'stage join'],
    );
    const build = one(runSpan, 'stage build');
    const joinStage = one(runSpan, 'stage join');
    assert.deepEqual(
      children(build)
        .map((s) => s.name)
        .sort(),
      ['action compile', 'action flaky'],
    );
    assert.deepEqual(
      children(joinStage)
        .map((s) => s.name)
        .sort(),
      ['action never', 'action python'],
    );

    const flaky = one(build, 'action flaky');
    const attempts = children(flaky).sort(
      (a, b) => Number(a.attributes['pilotage.attempt']) - Number(b.attributes['pilotage.attempt']),
    );
    assert.deepEqual(
      attempts.map((s) => s.name),
      ['attempt flaky #1', 'attempt flaky #2'],
    );
    assert.equal(attempts[0]!.attributes['pilotage.state'], 'failed');
    assert.equal(attempts[0]!.status.code, 2, 'a failed attempt is an error span');
    assert.equal(attempts[1]!.attributes['pilotage.state'], 'succeeded');
    for (const [i, attempt] of attempts.entries()) {
      const task = tasks.find((t) => t.action === 'flaky' && t.attempt === i + 1)!;
      assert.equal(attempt.attributes['pilotage.task_run.id'], task.id);
    }
    assert.equal(flaky.attributes['pilotage.state'], 'succeeded');

    const never = one(joinStage, 'action never');
    assert.equal(never.attributes['pilotage.state'], 'skipped');
    assert.deepEqual(children(never), [], 'a skipped action has no attempt');
  });

  test("an attempt holds the executor's steps and the callbacks, and names its CDEvents", () => {
    const { one } = treeOf(spans, runSpan.traceId);
    const compile = one(one(one(runSpan, 'stage build'), 'action compile'), 'attempt compile #1');
    const start = one(compile, 'start on local');
    assert.match(String(start.attributes['pilotage.executor.ref']), /^\d+$/, 'the pid');
    one(compile, 'teardown');
    const names = compile.events.map((e) => e.name);
    for (const step of ['component-start', 'task-start', 'task-status', 'task-result', 'component-stop']) {
      assert.ok(names.includes(`callback ${step}`), `callback ${step} in ${names.join(', ')}`);
    }
    assert.equal(compile.events.find((e) => e.name === 'exit')?.attributes['pilotage.exit_code'], 0);
    const task = tasks.find((t) => t.action === 'compile')!;
    const ofTask = outbox.filter((e) => (e.payload as any).subject?.id === task.id);
    const onSpan = compile.events.filter((e) => e.name === 'cdevent').map((e) => e.attributes['cdevents.id']);
    assert.deepEqual(onSpan.sort(), ofTask.map((e) => e.id).sort(), 'the task run CDEvents, by id');
    assert.equal(ofTask.length, 2, 'started and finished');
    const runEvents = runSpan.events.filter((e) => e.name === 'cdevent').map((e) => e.attributes['cdevents.type']);
    assert.deepEqual(runEvents, [
      'dev.cdevents.pipelinerun.queued.0.3.0',
      'dev.cdevents.pipelinerun.started.0.3.0',
      'dev.cdevents.pipelinerun.finished.0.3.0',
    ]);
  });

  test("a Python stdlib component reading TRACEPARENT joins the run's trace", () => {
    const { one } = treeOf(spans, runSpan.traceId);
    const attempt = one(one(one(runSpan, 'stage join'), 'action python'), 'attempt python #1');
    const python = tasks.find((t) => t.action === 'python')!;
    assert.equal(python.output['traceId'], runSpan.traceId, 'TRACEPARENT carries the run trace id');
    assert.equal(python.output['parentSpanId'], attempt.spanId, "TRACEPARENT names the attempt's span");
    const own = spans.find((s) => s.name === 'python work');
    assert.ok(own, 'the component exported its span');
    assert.equal(own.traceId, runSpan.traceId);
    assert.equal(own.spanId, python.output['spanId']);
    assert.equal(own.parentSpanId, attempt.spanId);
    assert.equal(own.resource['service.name'], 'traced-component');
  });

  test("the caller's tracestate reaches components as TRACESTATE", () => {
    const python = tasks.find((t) => t.action === 'python')!;
    assert.match(String(python.output['traceparent']), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(python.output['tracestate'], 'vendor=abc');
  });

  test('no attribute, event or status holds a secret', () => {
    const text = JSON.stringify(spans);
    assert.ok(!text.includes(SECRET), 'the secret reached the exported spans');
    const flakyFirst = spans.find((s) => s.name === 'attempt flaky #1')!;
    assert.equal(flakyFirst.attributes['pilotage.message'], 'rejected token ***', 'the message is there, masked');
  });
});
