import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signStandardWebhook } from '../src/service/webhook-signature.js';
import { clone, cloudEventRequest, coreExamples, sharedMissing } from './events-fixtures.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

const HOOK_SECRET = 'hook-Secret-trace-0042';

const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: followed
triggers:
  - webhook: { provider: generic, events: [deploy] }
  - cdevent: { type: dev.cdevents.artifact.published }
stages:
  - name: s
    actions:
      - { name: a, run: "true" }
`;

/** A caller's traceparent with its own trace id `n` (hex digits) and span id. */
const caller = (n: string): { trace: string; span: string; header: string } => {
  const trace = n.repeat(32).slice(0, 32);
  const span = `${n}1`.repeat(16).slice(0, 16);
  return { trace, span, header: `00-${trace}-${span}-01` };
};

describe("incoming trace context is honoured: a run started by an API call, a webhook or a CDEvent joins the caller's trace", () => {
  let receiver: OtlpReceiver;
  let h: ApiHarness;

  /** The run span of `runId`, once exported. */
  const runSpan = async (runId: string): Promise<ReceivedSpan> => {
    const done = await h.server.runtime.engine.waitForRun(runId);
    assert.equal(done.state, 'succeeded');
    await receiver.waitFor((spans) => spans.some((s) => s.attributes['pilotage.run.id'] === runId));
    return receiver.spans.find((s) => s.attributes['pilotage.run.id'] === runId)!;
  };

  before(async () => {
    receiver = await startOtlpReceiver();
    h = await createApiHarness({ config: { otelEndpoint: receiver.url } });
    assert.equal((await h.call('POST', '/v1/workflows', { body: { source: WORKFLOW } })).status, 201);
    const secret = await h.call('PUT', '/v1/secrets/WEBHOOK_SECRET', { body: { value: HOOK_SECRET } });
    assert.equal(secret.status, 201);
  });
  after(async () => {
    await h?.close();
    await receiver?.close();
  });

  test('POST /v1/workflows/:name/runs with traceparent and tracestate', async () => {
    const { trace, span, header } = caller('a');
    const started = await h.call('POST', '/v1/workflows/followed/runs', {
      body: {},
      headers: { traceparent: header, tracestate: 'ours=1' },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const run = await runSpan(started.body.id);
    assert.equal(run.traceId, trace);
    assert.equal(run.parentSpanId, span);
    assert.equal(run.attributes['pilotage.trigger'], 'manual');
  });

  test('a rerun joins the trace of the request that asked for it', async () => {
    const first = await h.call('POST', '/v1/workflows/followed/runs', { body: {} });
    await h.server.runtime.engine.waitForRun(first.body.id);
    const { trace, span, header } = caller('b');
    const rerun = await h.call('POST', `/v1/runs/${first.body.id}/rerun`, {
      body: { from: 'start' },
      headers: { traceparent: header },
    });
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    const run = await runSpan(rerun.body.id);
    assert.deepEqual([run.traceId, run.parentSpanId], [trace, span]);
  });

  test('a signed webhook with traceparent', async () => {
    const { trace, span, header } = caller('c');
    const body = JSON.stringify({ event: 'deploy' });
    const now = String(Math.floor(Date.now() / 1000));
    const answer = await h.call('POST', '/v1/hooks/followed/generic', {
      token: null,
      payload: body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': `msg_trace_${now}`,
        'webhook-timestamp': now,
        'webhook-signature': signStandardWebhook(HOOK_SECRET, `msg_trace_${now}`, now, body),
        traceparent: header,
      },
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const run = await runSpan(answer.body.runId);
    assert.deepEqual([run.traceId, run.parentSpanId], [trace, span]);
    assert.equal(run.attributes['pilotage.trigger'], 'webhook');
  });

  test('an invalid traceparent is ignored: the run starts a trace of its own', async () => {
    const started = await h.call('POST', '/v1/workflows/followed/runs', {
      body: {},
      headers: { traceparent: `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01` },
    });
    assert.equal(started.status, 201);
    const run = await runSpan(started.body.id);
    assert.equal(run.parentSpanId, '');
    assert.notEqual(run.traceId, '0'.repeat(32));
  });

  test('a CDEvent carrying the CloudEvents tracing extension (ce-traceparent)', { skip: sharedMissing }, async () => {
    const example = coreExamples().find((e) => e.doc.context.type.startsWith('dev.cdevents.artifact.published'));
    assert.ok(example, 'the conformance examples hold an artifact.published event');
    const doc = clone(example.doc);
    doc.context.id = `${doc.context.id}-traced`;
    const { trace, span, header } = caller('d');
    const { headers, body } = cloudEventRequest(doc, 'binary');
    const answer = await h.call('POST', '/v1/cdevents', {
      headers: { ...headers, 'ce-traceparent': header },
      payload: body,
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    const [started] = answer.body.runs;
    assert.ok(started, JSON.stringify(answer.body));
    const run = await runSpan(started.id);
    assert.deepEqual([run.traceId, run.parentSpanId], [trace, span]);
  });
});
