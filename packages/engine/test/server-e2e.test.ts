import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

/**
 * The whole server path over real HTTP on a free port: register components, apply a workflow,
 * set its webhook secret, trigger it by a signed GitHub-style webhook, follow the run over SSE to
 * its end, check outputs and logs, then rerun from the failed action and see that only it and its
 * successors ran again.
 */
const repoRoot = resolve(import.meta.dirname, '../../..');
const SECRET = `whsec-${randomUUID()}`;

const WORKFLOW = (marker: string) => `apiVersion: pilotage.dev/v1
kind: Workflow
name: e2e-pipeline
inputs:
  type: object
  required: [who]
  properties:
    who: { type: string }
    ref: { type: string, default: main }
triggers:
  - webhook:
      provider: github
      events: [push]
      inputs:
        who: '\${{ payload.pusher.name }}'
        ref: '\${{ payload.ref }}'
stages:
  - name: greet
    actions:
      - name: hello
        component: greet-sh@^1
        with: { name: '\${{ inputs.who }}' }
  - name: verify
    actions:
      - name: gate
        run: 'echo "checking $CO_INPUT_REF"; test -f ${marker} || { echo "marker missing" >&2; exit 3; }; echo "[COUT] verdict=ok"'
        with: { ref: '\${{ inputs.ref }}' }
  - name: report
    actions:
      - name: summary
        run: 'echo "[COUT] line=$CO_INPUT_GREETING / $CO_INPUT_VERDICT"'
        with:
          greeting: '\${{ actions.hello.outputs.greeting }}'
          verdict: '\${{ actions.gate.outputs.verdict }}'
`;

interface SseEvent {
  readonly event: string;
  readonly data: any;
}

async function http(
  h: ApiHarness,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(h.server.url + path, {
    method,
    headers: {
      authorization: `Bearer ${h.admin}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Follow `GET /v1/runs/:id/events` until the server ends the stream; every event in order. */
async function followRun(h: ApiHarness, runId: string): Promise<SseEvent[]> {
  const res = await fetch(`${h.server.url}/v1/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${h.admin}`, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(60_000),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: SseEvent[] = [];
  const parser = createParser({
    onEvent: (message) => events.push({ event: message.event ?? 'message', data: JSON.parse(message.data) }),
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk));
  return events;
}

/** The last attempt of each action in a `GET /v1/runs/:id` answer, by action name. */
function byAction(detail: { actions: { name: string; attempts: any[] }[] }): Map<string, any> {
  const last = new Map<string, any>();
  for (const action of detail.actions) {
    const attempt = action.attempts.at(-1);
    if (attempt !== undefined) last.set(action.name, attempt);
  }
  return last;
}

describe('server end to end: webhook → run → SSE → rerun from the failed action', () => {
  let h: ApiHarness;
  let marker: string;
  before(async () => {
    h = await createApiHarness();
    marker = join(h.dir, 'gate-open');
  });
  after(async () => h.close());

  test('the whole path', { timeout: 120_000 }, async () => {
    // register the component from its folder (the local executor runs it from there)
    const dir = join(repoRoot, 'components/greet-sh');
    const source = await readFile(join(dir, 'component.yaml'), 'utf8');
    const registered = await http(h, 'POST', '/v1/components', { source, dir });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));

    const applied = await http(h, 'PUT', '/v1/workflows/e2e-pipeline', {
      source: WORKFLOW(marker),
    });
    assert.ok([200, 201].includes(applied.status), JSON.stringify(applied.body));

    const secret = await http(h, 'PUT', '/v1/secrets/WEBHOOK_SECRET', { value: SECRET, workflow: 'e2e-pipeline' });
    assert.ok(secret.status < 300, JSON.stringify(secret.body));

    // a forged webhook starts nothing
    const payload = JSON.stringify({
      ref: 'refs/heads/main',
      pusher: { name: 'Ada' },
      repository: { full_name: 'o/r' },
    });
    const forged = await http(h, 'POST', '/v1/hooks/e2e-pipeline/github', payload, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', 'wrong').update(payload).digest('hex')}`,
      authorization: '',
    });
    assert.equal(forged.status, 401);
    assert.equal((await http(h, 'GET', '/v1/runs?workflow=e2e-pipeline')).body.runs.length, 0);

    // the signed one starts a run with inputs mapped from the payload
    const hook = await http(h, 'POST', '/v1/hooks/e2e-pipeline/github', payload, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(payload).digest('hex')}`,
      authorization: '',
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const firstId: string = hook.body.runId;

    const firstEvents = await followRun(h, firstId);
    assert.equal(firstEvents[0]?.event, 'snapshot');
    assert.equal(firstEvents.at(-1)?.event, 'end');
    assert.equal(firstEvents.at(-1)?.data.run.state, 'failed');
    assert.ok(
      firstEvents.some(
        (e) => e.event === 'task' && e.data.task.action === 'hello' && e.data.task.state === 'succeeded',
      ),
      'SSE showed the greeting task succeed',
    );

    const first = (await http(h, 'GET', `/v1/runs/${firstId}`)).body;
    assert.deepEqual(first.run.inputs, { who: 'Ada', ref: 'refs/heads/main' });
    assert.equal(first.run.trigger.kind, 'webhook');
    const firstTasks = byAction(first);
    assert.equal(firstTasks.get('hello').output.greeting, 'Hello, Ada!');
    assert.equal(firstTasks.get('gate').state, 'failed');
    const summary = firstTasks.get('summary');
    if (summary !== undefined) {
      assert.ok(['skipped', 'cancelled'].includes(summary.state), `summary ${summary.state}`);
      assert.equal(summary.startedAt, null, 'the stage after the failure never started');
    }

    const gateLogs = (await http(h, 'GET', `/v1/runs/${firstId}/tasks/${firstTasks.get('gate').id}/logs`)).body;
    const lines: string[] = (gateLogs.lines ?? gateLogs).map((l: { line: string }) => l.line);
    assert.ok(lines.includes('checking refs/heads/main'), JSON.stringify(lines));
    assert.ok(lines.includes('marker missing'), JSON.stringify(lines));

    // fix the cause, rerun from the failed action
    await writeFile(marker, 'open');
    const rerun = await http(h, 'POST', `/v1/runs/${firstId}/rerun`, { from: 'failed' });
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    const secondId: string = rerun.body.id;
    const secondEvents = await followRun(h, secondId);
    assert.equal(secondEvents.at(-1)?.data.run.state, 'succeeded');

    const second = (await http(h, 'GET', `/v1/runs/${secondId}`)).body;
    assert.equal(second.run.trigger.kind, 'rerun');
    const secondTasks = byAction(second);
    const hello = secondTasks.get('hello');
    assert.equal(hello.state, 'succeeded');
    assert.match(hello.reason ?? '', new RegExp(`reused from run ${firstId}`));
    assert.equal(hello.output.greeting, 'Hello, Ada!');
    const helloLogs = (await http(h, 'GET', `/v1/runs/${secondId}/tasks/${hello.id}/logs`)).body;
    assert.equal((helloLogs.lines ?? helloLogs).length, 0, 'the reused action did not run again');
    assert.equal(secondTasks.get('gate').state, 'succeeded');
    assert.equal(secondTasks.get('gate').output.verdict, 'ok');
    assert.equal(secondTasks.get('summary').output.line, 'Hello, Ada! / ok');

    // the webhook secret never reached the log
    assert.ok(!h.logText().includes(SECRET));
  });
});
