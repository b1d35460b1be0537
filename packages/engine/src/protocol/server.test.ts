import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { CallbackRegistry } from './registry.js';
import { startCallbackServer } from './server.js';
import type { CallbackServer } from './server.js';
import { buildContractEnv } from './env.js';
import type { AcceptedStep } from './types.js';

const run = promisify(execFile);

describe('startCallbackServer over real HTTP', () => {
  const registry = new CallbackRegistry();
  const accepted: AcceptedStep[] = [];
  let server: CallbackServer;
  let env: Record<string, string>;

  before(async () => {
    server = await startCallbackServer({ registry });
    const token = 'real-http-token';
    const eventData = { repo: 'https://example.com/x.git', n: 3 };
    registry.register(token, {
      taskRunId: 'TR',
      runId: 'R',
      eventData,
      listener: { onStep: async (step) => void accepted.push(step) },
    });
    env = buildContractEnv({
      baseUrl: server.url,
      token,
      taskRunId: 'TR',
      runId: 'R',
      workflow: 'w',
      stage: 's',
      action: 'a',
      attempt: 1,
      eventData,
      workspace: '/tmp',
      server: server.url,
    });
  });
  after(async () => {
    await server.close();
    await server.close();
  });

  test('listens on loopback', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('a shell component: wget --post-data and curl, as in docs/contract.md', async () => {
    const script = [
      'set -e',
      'wget -q -O- --post-data "" "$CO_COMPONENT_START"',
      'echo',
      'curl -sf -X POST "$CO_TASK_START"',
      'echo',
      'wget -q -O- "$CO_DATA_URL"',
      'echo',
      `curl -sf -H 'Content-Type: application/json' -d '{"progress":0.5,"message":"half"}' "$CO_TASK_STATUS"`,
      'echo',
      `wget -q -O- --post-data '{"status":"success","output":{"repo":"'"$CO_INPUT_REPO"'"}}' "$CO_TASK_RESULT"`,
      'echo',
      'curl -s -o /dev/null -w "%{http_code}" -X POST "$CO_TASK_STATUS" -d "{\\"nope\\":1}"',
      'echo',
      'curl -s -X POST "$CO_COMPONENT_STOP"',
    ].join('\n');
    const { stdout } = await run('sh', ['-c', script], { env: { ...process.env, ...env } });
    const lines = stdout.trim().split('\n');
    assert.deepEqual(lines, [
      '{"ok":true}',
      '{"ok":true}',
      '{"repo":"https://example.com/x.git","n":3}',
      '{"ok":true}',
      '{"ok":true}',
      '400',
      '{"ok":true}',
    ]);
    assert.deepEqual(accepted, [
      { step: 'component-start' },
      { step: 'task-start' },
      { step: 'task-status', body: { progress: 0.5, message: 'half' } },
      { step: 'task-result', body: { status: 'success', output: { repo: 'https://example.com/x.git' } } },
      { step: 'component-stop' },
    ]);
  });

  test('a body with no content type at all is read as JSON', async () => {
    registry.register('no-type', {
      taskRunId: 'TR2',
      runId: 'R',
      eventData: null,
      listener: { onStep: async () => undefined },
    });
    const post = (step: string, body: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${server.url}/v1/callbacks/no-type/${step}`, { method: 'POST' }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.removeHeader('content-type');
        req.end(body);
      });
    assert.deepEqual(await post('component-start', '{}'), { status: 200, text: '{"ok":true}' });
    assert.deepEqual(await post('task-start', ''), { status: 200, text: '{"ok":true}' });
    const bad = await post('task-status', '{"progress":2}');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /progress/);
  });

  test('a wrong token is 404 over HTTP', async () => {
    const res = await fetch(`${server.url}/v1/callbacks/not-a-token/component-start`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { ok: false, code: 'NOT_FOUND', message: 'unknown callback token' });
  });

  test("the same answers as the API server's routes: one silent 404 for any other path or method, 413 over 1 MiB", async () => {
    for (const [method, path] of [
      ['POST', '/v1/callbacks/real-http-token/nope'],
      ['GET', '/v1/callbacks/real-http-token/component-start'],
      ['PUT', '/v1/callbacks/real-http-token/task-start'],
      ['GET', '/elsewhere'],
      ['POST', '/v1/callbacks/real-http-token'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(await res.json(), { ok: false, code: 'NOT_FOUND', message: 'unknown callback token' });
    }
    const big = await fetch(`${server.url}/v1/callbacks/real-http-token/task-status`, {
      method: 'POST',
      body: JSON.stringify({ message: 'x'.repeat(1024 * 1024) }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { code: string }).code, 'BODY_TOO_LARGE');
  });
});
