import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { CallbackRegistry } from './registry.js';
import { callbackRoutes } from './routes.js';
import { hashToken, redactCallbackUrl } from './tokens.js';
import type { AcceptedStep, ContractListener, SessionOptions } from './types.js';
import type { JsonObject } from '../domain/vocabulary.js';

const TOKEN = 'tok-abc_123';

/** A listener that records what it accepted, and can be told to reject its next calls. */
function recorder(): ContractListener & { steps: AcceptedStep[]; events: JsonObject[]; failures: number } {
  return {
    steps: [],
    events: [],
    failures: 0,
    async onStep(accepted) {
      if (this.failures > 0) {
        this.failures--;
        throw new Error('database is down');
      }
      this.steps.push(accepted);
    },
    async onCdevent(event) {
      if (event['type'] === undefined) return 'a CDEvent needs a type';
      this.events.push(event);
      return undefined;
    },
  };
}

describe('callbackRoutes', () => {
  let app: FastifyInstance;
  let registry: CallbackRegistry;
  let listener: ReturnType<typeof recorder>;
  let logged: string;

  function options(extra: Partial<SessionOptions> = {}): SessionOptions {
    return {
      taskRunId: 'TR1',
      runId: 'R1',
      eventData: { repo: 'x', n: 1 },
      validateOutput: (o) => (typeof o['commit'] === 'string' ? undefined : "must have required property 'commit'"),
      listener,
      ...extra,
    };
  }

  const post = (step: string, payload?: string, headers: Record<string, string> = {}, token = TOKEN) =>
    app.inject({ method: 'POST', url: `/v1/callbacks/${token}/${step}`, payload, headers });

  beforeEach(async () => {
    logged = '';
    // A logging server, as the API server will be: the token must never reach its log.
    app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => void (logged += line) } } });
    registry = new CallbackRegistry();
    listener = recorder();
    await app.register(callbackRoutes, { registry });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    assert.equal(logged.includes(TOKEN), false, 'the token was logged');
  });

  test('the full sequence, with and without a content type', async () => {
    registry.register(TOKEN, options());
    for (const [step, body, headers] of [
      ['component-start', undefined, {}],
      ['task-start', '', { 'content-type': 'application/json' }],
      ['task-status', '{"progress":0.5}', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['task-result', '{"status":"success","output":{"commit":"abc"}}', { 'content-type': 'text/plain' }],
      ['component-stop', '{}', { 'content-type': 'application/json' }],
    ] as const) {
      const res = await post(step, body, headers);
      assert.equal(res.statusCode, 200, `${step}: ${res.body}`);
      assert.deepEqual(res.json(), { ok: true });
    }
    assert.deepEqual(
      listener.steps.map((s) => s.step),
      ['component-start', 'task-start', 'task-status', 'task-result', 'component-stop'],
    );
    assert.deepEqual(listener.steps[3], {
      step: 'task-result',
      body: { status: 'success', output: { commit: 'abc' } },
    });
    const session = registry.get(hashToken(TOKEN));
    assert.deepEqual(session?.result, { status: 'success', output: { commit: 'abc' } });
    assert.equal(session?.seen.size, 5);
  });

  test('400 for malformed JSON, an unknown key and an output failing its schema', async () => {
    registry.register(TOKEN, options());
    await post('component-start');
    await post('task-start');
    const malformed = await post('task-result', '{"status":', { 'content-type': 'application/json' });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().code, 'BAD_BODY');
    assert.match(malformed.json().message, /not valid JSON/);
    const unknown = await post('task-status', '{"percent":5}');
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().message, /unknown field 'percent'/);
    const schema = await post('task-result', '{"status":"success","output":{"commit":5}}');
    assert.equal(schema.statusCode, 400);
    assert.match(schema.json().message, /required property 'commit'/);
    assert.deepEqual(
      listener.steps.map((s) => s.step),
      ['component-start', 'task-start'],
    );
    // a 400 does not consume the result: a good one is still accepted
    assert.equal((await post('task-result', '{"status":"success","output":{"commit":"c"}}')).statusCode, 200);
  });

  test('404 for a wrong token, an unknown step and any other path, all alike', async () => {
    registry.register(TOKEN, options());
    const expected = { ok: false, code: 'NOT_FOUND', message: 'unknown callback token' };
    for (const res of [
      await post('component-start', undefined, {}, 'wrong'),
      await post('data'),
      await post('nope'),
      await app.inject({ method: 'GET', url: `/v1/callbacks/wrong/data` }),
      await app.inject({ method: 'GET', url: `/v1/callbacks/${TOKEN}/task-start` }),
      await app.inject({ method: 'PUT', url: `/v1/callbacks/${TOKEN}/task-start` }),
      await app.inject({ method: 'POST', url: `/v1/callbacks/${TOKEN}` }),
    ]) {
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), expected);
    }
    assert.equal(listener.steps.length, 0);
    // the server does log other requests: the silence above is the routes' doing
    await app.inject({ method: 'GET', url: '/elsewhere-xyz' });
    assert.match(logged, /elsewhere-xyz/);
    registry.unregister(hashToken(TOKEN));
    assert.equal((await post('component-start')).statusCode, 404);
  });

  test('409 out of order, with the expected step and the state', async () => {
    registry.register(TOKEN, options());
    const early = await post('task-start');
    assert.equal(early.statusCode, 409);
    assert.deepEqual(early.json(), {
      ok: false,
      code: 'OUT_OF_SEQUENCE',
      message: 'task-start is out of sequence: expected component-start first',
      state: 'not-started',
    });
    await post('component-start');
    const result = await post('task-result', '{"status":"success","output":{"commit":"a"}}');
    assert.equal(result.statusCode, 409);
    assert.equal(result.json().state, 'component-start');
    assert.match(result.json().message, /expected task-start first/);
  });

  test('409 after the engine ended the task run, naming its state', async () => {
    const session = registry.register(TOKEN, options());
    await post('component-start');
    session.end('failed');
    const res = await post('task-start');
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'TASK_RUN_ENDED');
    assert.equal(res.json().state, 'failed');
    assert.match(res.json().message, /ended \(failed\)/);
    assert.equal((await post('component-start')).statusCode, 409);
    assert.equal((await app.inject({ method: 'GET', url: `/v1/callbacks/${TOKEN}/data` })).statusCode, 409);
    assert.equal(listener.steps.length, 1);
  });

  test('an identical repeat is 200 without calling the listener; a different result is 409', async () => {
    registry.register(TOKEN, options());
    const result = '{"status":"success","output":{"commit":"a"}}';
    for (const step of ['component-start', 'component-start', 'task-start', 'task-start']) await post(step);
    assert.equal((await post('task-result', result)).statusCode, 200);
    const again = await post('task-result', '{"output":{"commit":"a"},"status":"success"}');
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { ok: true });
    const different = await post('task-result', '{"status":"failure"}');
    assert.equal(different.statusCode, 409);
    assert.equal(different.json().code, 'RESULT_CONFLICT');
    assert.deepEqual(
      listener.steps.map((s) => s.step),
      ['component-start', 'task-start', 'task-result'],
    );
  });

  test('500 when the listener rejects; the step is not seen and a retry is accepted', async () => {
    const session = registry.register(TOKEN, options());
    listener.failures = 1;
    const failed = await post('component-start');
    assert.equal(failed.statusCode, 500);
    assert.equal(failed.json().code, 'INTERNAL');
    assert.equal(session.seen.has('component-start'), false);
    assert.equal((await post('task-start')).statusCode, 409);
    const retry = await post('component-start');
    assert.equal(retry.statusCode, 200);
    assert.deepEqual(listener.steps, [{ step: 'component-start' }]);
  });

  test('GET data serves the event data as application/json', async () => {
    registry.register(TOKEN, options({ eventData: { repo: 'https://x', list: [1, 'a'] } }));
    const res = await app.inject({ method: 'GET', url: `/v1/callbacks/${TOKEN}/data` });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(res.json(), { repo: 'https://x', list: [1, 'a'] });
  });

  test('cdevent: accepted, refused by the listener (400), malformed (400)', async () => {
    registry.register(TOKEN, options());
    assert.equal((await post('cdevent', '{"type":"dev.cdevents.artifact.published.0.2.0"}')).statusCode, 200);
    const refused = await post('cdevent', '{"id":"x"}');
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().message, 'a CDEvent needs a type');
    assert.equal((await post('cdevent', 'nope')).statusCode, 400);
    assert.equal(listener.events.length, 1);
  });

  test('a body over 1 MiB is refused with 413', async () => {
    registry.register(TOKEN, options());
    await post('component-start');
    await post('task-start');
    const big = JSON.stringify({ status: 'success', output: { commit: 'x'.repeat(1024 * 1024) } });
    const res = await post('task-result', big, { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().code, 'BODY_TOO_LARGE');
    assert.equal(listener.steps.length, 2);
  });
});

describe('tokens', () => {
  test('hashToken is sha256 hex', () => {
    assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  test('redactCallbackUrl hides the token only', () => {
    assert.equal(redactCallbackUrl('/v1/callbacks/s3cr3t/task-start'), '/v1/callbacks/[redacted]/task-start');
    assert.equal(redactCallbackUrl('/v1/runs/abc'), '/v1/runs/abc');
  });
  test('registering the same token twice is a conflict', () => {
    const registry = new CallbackRegistry();
    const listener = recorder();
    registry.register('t', { taskRunId: 'a', runId: 'r', eventData: null, listener });
    assert.throws(() => registry.register('t', { taskRunId: 'b', runId: 'r', eventData: null, listener }), {
      code: 'CONFLICT',
    });
    assert.equal(registry.lookup('t')?.taskRunId, 'a');
  });
});
