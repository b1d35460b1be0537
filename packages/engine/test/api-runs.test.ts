import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyWorkflow, GATED_WORKFLOW, waitForEnd, waitForRun } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

describe('runs API: start, list, get, logs, cancel', () => {
  let h: ApiHarness;
  let reader: string;
  before(async () => {
    h = await createApiHarness();
    reader = await h.token('read');
    await applyWorkflow(
      h,
      'greet',
      `inputs:
  type: object
  required: [repo]
  properties:
    repo: { type: string }
    count: { type: integer, default: 1 }
stages:
  - name: build
    actions:
      - name: hello
        with: "\${{ inputs }}"
        run: |
          echo "hello $CO_INPUT_REPO"
          echo "count $CO_INPUT_COUNT" >&2
          echo "[COUT] greeting=hi-$CO_INPUT_REPO"
  - name: after
    actions:
      - name: bye
        with: { greeting: "\${{ actions.hello.outputs.greeting }}" }
        run: echo "bye"
`,
    );
    await applyWorkflow(h, 'waits', GATED_WORKFLOW);
  });
  after(async () => h.close());

  test('POST /v1/workflows/:name/runs starts a run: 201, manual trigger by the token name, typed inputs', async () => {
    const runner = await h.token('run');
    const started = await h.call('POST', '/v1/workflows/greet/runs', {
      token: runner,
      body: { data: { repo: 'demo' }, inputs: { count: '3' } },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.workflow, 'greet');
    assert.equal(started.body.workflowVersion, '1');
    assert.deepEqual(started.body.trigger, { kind: 'manual', by: 'test-run' });
    assert.deepEqual(started.body.inputs, { repo: 'demo', count: 3 });
    assert.equal(started.body.plan, undefined, 'the compiled plan is not part of the answer');

    const detail = await waitForEnd(h, started.body.id);
    assert.equal(detail.run.state, 'succeeded');
    assert.deepEqual(
      detail.stages.map((s: any) => [s.name, s.actions.map((a: any) => a.name)]),
      [
        ['build', ['hello']],
        ['after', ['bye']],
      ],
    );
    assert.deepEqual(
      detail.actions.map((a: any) => [a.name, a.stage, a.state, a.attempts.length]),
      [
        ['hello', 'build', 'succeeded', 1],
        ['bye', 'after', 'succeeded', 1],
      ],
    );
    assert.deepEqual(detail.outputs.hello, { greeting: 'hi-demo' });
    assert.deepEqual(detail.actions[1].attempts[0].eventData, { greeting: 'hi-demo' });
    const attempt = detail.actions[0].attempts[0];
    assert.equal(attempt.tokenHash, undefined, 'the callback token hash is never shown');
    assert.deepEqual(
      attempt.transitions.map((t: any) => t.to),
      ['pending', 'starting', 'running', 'succeeded'],
    );
    assert.deepEqual(
      detail.transitions.map((t: any) => t.to),
      ['queued', 'running', 'succeeded'],
    );

    const logs = await h.call('GET', `/v1/runs/${started.body.id}/tasks/${attempt.id}/logs`, { token: reader });
    assert.equal(logs.status, 200);
    assert.equal(logs.body.taskState, 'succeeded');
    const texts = logs.body.lines.map((l: any) => `${l.stream}:${l.line}`);
    assert.ok(texts.includes('stdout:hello demo'), texts.join('\n'));
    assert.ok(texts.includes('stderr:count 3'), texts.join('\n'));
    const page = await h.call('GET', `/v1/runs/${started.body.id}/tasks/${attempt.id}/logs?after=1&limit=1`, {
      token: reader,
    });
    assert.deepEqual(
      page.body.lines.map((l: any) => l.seq),
      [2],
    );
    assert.equal(page.body.lastSeq, 2);
    const tail = await h.call('GET', `/v1/runs/${started.body.id}/tasks/${attempt.id}/logs?tail=1`, { token: reader });
    assert.equal(tail.body.lines.length, 1);
    assert.equal(tail.body.lines[0].seq, logs.body.lines.at(-1).seq);
  });

  test('starting a run: 400 naming the field, 404 for an unknown workflow or version, 401, 403 with a read token', async () => {
    const missing = await h.call('POST', '/v1/workflows/greet/runs', { body: { data: {} } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'VALIDATION');
    assert.deepEqual(
      missing.body.details.map((d: any) => d.field),
      ['body.data.repo'],
    );
    const wrongType = await h.call('POST', '/v1/workflows/greet/runs', { body: { data: { repo: 7 } } });
    assert.equal(wrongType.status, 400);
    assert.deepEqual(
      wrongType.body.details.map((d: any) => d.field),
      ['body.data.repo'],
    );
    const badInput = await h.call('POST', '/v1/workflows/greet/runs', {
      body: { data: { repo: 'x' }, inputs: { count: 'many' } },
    });
    assert.equal(badInput.status, 400);
    assert.deepEqual(
      badInput.body.details.map((d: any) => d.field),
      ['body.inputs.count'],
    );
    const notObject = await h.call('POST', '/v1/workflows/greet/runs', { body: { data: [1] } });
    assert.equal(notObject.status, 400);
    assert.ok(
      notObject.body.details.some((d: any) => d.field === 'body.data'),
      JSON.stringify(notObject.body),
    );
    const extra = await h.call('POST', '/v1/workflows/greet/runs', { body: { data: { repo: 'x' }, when: 'now' } });
    assert.equal(extra.status, 400);

    const unknown = await h.call('POST', '/v1/workflows/nope/runs', { body: { data: {} } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'NOT_FOUND');
    const noVersion = await h.call('POST', '/v1/workflows/greet/runs', { body: { data: { repo: 'x' }, version: 9 } });
    assert.equal(noVersion.status, 404);

    assert.equal((await h.call('POST', '/v1/workflows/greet/runs', { token: null, body: {} })).status, 401);
    const forbidden = await h.call('POST', '/v1/workflows/greet/runs', {
      token: reader,
      body: { data: { repo: 'x' } },
    });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.code, 'FORBIDDEN');
  });

  test('a disabled workflow refuses runs with 409; a server shutting down with 503', async () => {
    await applyWorkflow(h, 'off', 'stages: [{ name: s, actions: [{ name: a, run: "true" }] }]\n');
    assert.ok(await h.server.runtime.store.workflows.setEnabled('off', false, Date.now()));
    const disabled = await h.call('POST', '/v1/workflows/off/runs');
    assert.equal(disabled.status, 409);
    assert.equal(disabled.body.code, 'CONFLICT');
    h.server.lifecycle.accepting = false;
    try {
      const refused = await h.call('POST', '/v1/workflows/greet/runs', { body: { data: { repo: 'x' } } });
      assert.equal(refused.status, 503);
    } finally {
      h.server.lifecycle.accepting = true;
    }
  });

  test('GET /v1/runs filters by workflow, state, trigger and time, newest first, with an opaque cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = await h.call('POST', '/v1/workflows/greet/runs', { body: { data: { repo: `r${i}` } } });
      assert.equal(started.status, 201);
      ids.push(started.body.id);
    }
    for (const id of ids) await waitForEnd(h, id);

    const first = await h.call('GET', '/v1/runs?workflow=greet&limit=2', { token: reader });
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.runs.map((r: any) => r.id),
      [ids[4], ids[3]],
    );
    assert.equal(typeof first.body.nextCursor, 'string');
    assert.ok(!first.body.nextCursor.includes(ids[3]!), 'the cursor is opaque');
    const second = await h.call('GET', `/v1/runs?workflow=greet&limit=2&cursor=${first.body.nextCursor}`, {
      token: reader,
    });
    assert.deepEqual(
      second.body.runs.map((r: any) => r.id),
      [ids[2], ids[1]],
    );
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/runs?workflow=greet&limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const page: any = await h.call('GET', url, { token: reader });
      all.push(...page.body.runs.map((r: any) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(all.slice(0, 5), [...ids].reverse());
    assert.deepEqual([...all].sort().reverse(), all, 'newest first, no duplicates across pages');
    assert.equal(new Set(all).size, all.length);

    const manual = await h.call('GET', '/v1/runs?trigger=manual&state=succeeded&limit=200', { token: reader });
    assert.ok(manual.body.runs.length >= 5);
    assert.ok(manual.body.runs.every((r: any) => r.trigger.kind === 'manual' && r.state === 'succeeded'));
    const reruns = await h.call('GET', '/v1/runs?trigger=rerun', { token: reader });
    assert.deepEqual(reruns.body, { runs: [], nextCursor: null });

    const third = (await h.call('GET', `/v1/runs/${ids[2]}`)).body.run;
    const since = await h.call('GET', `/v1/runs?workflow=greet&createdAfter=${third.createdAt}&limit=200`, {
      token: reader,
    });
    assert.deepEqual(
      since.body.runs.map((r: any) => r.id),
      [ids[4], ids[3], ids[2]],
    );
    const iso = new Date(third.createdAt).toISOString();
    const until = await h.call('GET', `/v1/runs?workflow=greet&createdBefore=${encodeURIComponent(iso)}&limit=200`, {
      token: reader,
    });
    assert.ok(!until.body.runs.some((r: any) => [ids[2], ids[3], ids[4]].includes(r.id)));
    assert.ok(until.body.runs.some((r: any) => r.id === ids[1]));
  });

  test('GET /v1/runs: 400 naming the query field, 401 without a token', async () => {
    const badState = await h.call('GET', '/v1/runs?state=sleeping');
    assert.equal(badState.status, 400);
    assert.ok(
      badState.body.details.some((d: any) => d.field === 'querystring.state'),
      JSON.stringify(badState.body),
    );
    const badLimit = await h.call('GET', '/v1/runs?limit=0');
    assert.equal(badLimit.status, 400);
    assert.ok(badLimit.body.details.some((d: any) => d.field === 'querystring.limit'));
    const badCursor = await h.call('GET', '/v1/runs?cursor=nonsense');
    assert.equal(badCursor.status, 400);
    assert.deepEqual(
      badCursor.body.details.map((d: any) => d.field),
      ['querystring.cursor'],
    );
    const badTime = await h.call('GET', '/v1/runs?createdAfter=yesterday');
    assert.deepEqual(
      badTime.body.details.map((d: any) => d.field),
      ['querystring.createdAfter'],
    );
    assert.equal((await h.call('GET', '/v1/runs', { token: null })).status, 401);
  });

  test('GET /v1/runs/:id and logs: 404 for unknown ids, 401 without a token, 400 for a bad page', async () => {
    assert.equal((await h.call('GET', '/v1/runs/01NOPE')).status, 404);
    assert.equal((await h.call('GET', '/v1/runs/01NOPE', { token: null })).status, 401);
    const run = (await h.call('GET', '/v1/runs?workflow=greet&limit=1')).body.runs[0];
    const other = (await h.call('GET', '/v1/runs?workflow=greet&limit=2')).body.runs[1];
    const otherTask = (await h.call('GET', `/v1/runs/${other.id}`)).body.actions[0].attempts[0];
    const wrongRun = await h.call('GET', `/v1/runs/${run.id}/tasks/${otherTask.id}/logs`);
    assert.equal(wrongRun.status, 404, 'a task run of another run is not found under this one');
    assert.equal((await h.call('GET', `/v1/runs/${run.id}/tasks/nope/logs`)).status, 404);
    assert.equal((await h.call('GET', `/v1/runs/${run.id}/tasks/nope/logs`, { token: null })).status, 401);
    const badAfter = await h.call('GET', `/v1/runs/${other.id}/tasks/${otherTask.id}/logs?after=-1`);
    assert.equal(badAfter.status, 400);
    assert.ok(badAfter.body.details.some((d: any) => d.field === 'querystring.after'));
  });

  test('POST /v1/runs/:id/cancel: 202, the run ends cancelled; 409 once ended; 403 read, 401, 404', async () => {
    const gate = join(h.dir, 'never-opened');
    const started = await h.call('POST', '/v1/workflows/waits/runs', { body: { data: { gate } } });
    assert.equal(started.status, 201);
    const id = started.body.id;
    await waitForRun(h, id, (d) => d.actions[0]?.state === 'running');
    assert.equal((await h.call('POST', `/v1/runs/${id}/cancel`, { token: reader })).status, 403);
    assert.equal((await h.call('POST', `/v1/runs/${id}/cancel`, { token: null })).status, 401);
    const runner = await h.token('run');
    const cancelled = await h.call('POST', `/v1/runs/${id}/cancel`, { token: runner });
    assert.equal(cancelled.status, 202, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.id, id);
    const detail = await waitForEnd(h, id);
    assert.equal(detail.run.state, 'cancelled');
    assert.equal(detail.run.reason, 'cancelled by test-run');
    assert.equal(detail.actions[0].state, 'cancelled');
    const again = await h.call('POST', `/v1/runs/${id}/cancel`);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /already ended \(cancelled\)/);
    assert.equal((await h.call('POST', '/v1/runs/01NOPE/cancel')).status, 404);
  });

  test('the routes are in the OpenAPI document with their scopes enforced', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    for (const path of [
      '/v1/workflows/{name}/runs',
      '/v1/runs',
      '/v1/runs/{id}',
      '/v1/runs/{id}/cancel',
      '/v1/runs/{id}/rerun',
      '/v1/runs/{id}/events',
      '/v1/runs/{id}/tasks/{taskRunId}/logs',
      '/v1/runs/{id}/tasks/{taskRunId}/logs/stream',
    ]) {
      assert.ok(doc.paths[path], `${path} documented`);
    }
  });
});
