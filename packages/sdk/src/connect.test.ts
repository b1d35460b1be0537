import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, startRecordingServer, TOKEN } from '../test/recording-server.js';
import { connect } from './connect.js';
import { ContractEnvError } from './contract-env-error.js';
import { ContractError } from './contract-error.js';
import { ContractUnreachableError } from './contract-unreachable-error.js';

describe('connect', () => {
  test('retries a refused connection until the engine listens', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/v1/callbacks/${TOKEN}`;
    const env = {
      CO_COMPONENT_START: `${base}/component-start`,
      CO_TASK_START: `${base}/task-start`,
      CO_TASK_STATUS: `${base}/task-status`,
      CO_TASK_RESULT: `${base}/task-result`,
      CO_COMPONENT_STOP: `${base}/component-stop`,
    };
    const client = connect(env, { retryDelayMs: 100 });
    // Retries come at +100, +300, +700 ms: the server appears between the first and second.
    const late = new Promise<Awaited<ReturnType<typeof startRecordingServer>>>((resolve, reject) => {
      setTimeout(() => startRecordingServer({}, {}, port).then(resolve, reject), 150);
    });
    await client.start();
    await using server = await late;
    assert.deepEqual(
      server.calls.map((c) => c.step),
      ['component-start'],
    );
  });

  test('gives up after 3 retries with ContractUnreachableError, hiding the token', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/v1/callbacks/${TOKEN}`;
    const client = connect(
      {
        CO_COMPONENT_START: `${base}/component-start`,
        CO_TASK_START: `${base}/task-start`,
        CO_TASK_STATUS: `${base}/task-status`,
        CO_TASK_RESULT: `${base}/task-result`,
        CO_COMPONENT_STOP: `${base}/component-stop`,
      },
      { retryDelayMs: 5 },
    );
    const started = Date.now();
    const err = await client.taskStart().then(
      () => assert.fail('should not succeed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ContractUnreachableError);
    assert.equal(err.attempts, 4);
    assert.equal(err.step, 'TASK_START');
    assert.match(err.message, /ECONNREFUSED/);
    assert.doesNotMatch(err.message, new RegExp(TOKEN));
    // 5 + 10 + 20 ms of backoff at least
    assert.ok(Date.now() - started >= 35);
  });

  test('a 4xx answer throws ContractError at once, with status and body', async () => {
    await using server = await startRecordingServer(
      {},
      {
        'task-result': [{ status: 409, body: { error: 'task run is in state succeeded' } }],
      },
    );
    const client = connect(server.env(), { retryDelayMs: 5 });
    const err = await client.result({ status: 'success' }).then(
      () => assert.fail('should not succeed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ContractError);
    assert.equal(err.status, 409);
    assert.equal(err.step, 'TASK_RESULT');
    assert.equal(err.body, '{"error":"task run is in state succeeded"}');
    assert.equal(err.reason, 'task run is in state succeeded');
    assert.equal(server.calls.length, 1);
  });

  test('a 5xx answer is retried', async () => {
    await using server = await startRecordingServer(
      {},
      {
        'task-status': [
          { status: 500, body: { error: 'store busy' } },
          { status: 503, body: { error: 'store busy' } },
        ],
      },
    );
    const client = connect(server.env(), { retryDelayMs: 5 });
    await client.status({ message: 'hi' });
    assert.equal(server.calls.length, 3);
    assert.ok(server.calls.every((c) => c.step === 'task-status'));
  });

  test('a 5xx that persists throws the last ContractError', async () => {
    const failing = Array.from({ length: 4 }, () => ({ status: 502, body: { error: 'bad gateway' } }));
    await using server = await startRecordingServer({}, { 'component-stop': failing });
    const client = connect(server.env(), { retryDelayMs: 1 });
    await assert.rejects(client.stop(), (e: unknown) => e instanceof ContractError && e.status === 502);
    assert.equal(server.calls.length, 4);
  });

  test('data() is read once and cached', async () => {
    await using server = await startRecordingServer({ a: 1 });
    const client = connect(server.env(), { retryDelayMs: 5 });
    assert.deepEqual(await client.data(), { a: 1 });
    assert.deepEqual(await client.data(), { a: 1 });
    assert.equal(server.calls.filter((c) => c.step === 'data').length, 1);
  });

  test('an incomplete contract environment names what is missing', () => {
    assert.throws(
      () => connect({ CO_COMPONENT_START: 'http://127.0.0.1:1/x', CO_TASK_RESULT: 'http://127.0.0.1:1/y' }),
      (e: unknown) =>
        e instanceof ContractEnvError && e.message.includes('CO_TASK_START, CO_TASK_STATUS, CO_COMPONENT_STOP not set'),
    );
  });

  test('dev mode when no contract variable is set', async () => {
    const lines: string[] = [];
    const client = connect({ CO_DATA: '{"x":true}' }, { log: (l) => lines.push(l) });
    assert.equal(client.mode, 'dev');
    assert.deepEqual(await client.data(), { x: true });
    await client.result({ status: 'failure', message: 'm' });
    assert.deepEqual(lines, ['[pilotage dev] TASK_RESULT {"status":"failure","message":"m"}']);
  });
});
