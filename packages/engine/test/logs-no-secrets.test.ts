import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

const SECRET = 'sekr1t-Value-9f3e2d1c';
const ENV_SECRET = 'env-S3cret-44b1e0aa';
const SECRET_IN_QUERY = 'q-secret-77aa01';

/**
 * A component that dumps its environment (callback URLs with their tokens, the secrets) to a
 * file and to its own output, reports the secrets in a status message and an output, sends one
 * malformed status, and completes.
 */
function workflowText(envFile: string): string {
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: leaky
stages:
  - name: s
    actions:
      - name: a
        env:
          DEPLOY_KEY: '\${{ secrets.DEPLOY_KEY }}'
          ENV_KEY: '\${{ secrets.ENV_KEY }}'
        run: |
          env | sort > '${envFile}'
          env | sort
          post() { curl -sS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          post "$CO_COMPONENT_START" '{}'
          post "$CO_TASK_START" '{}'
          post "$CO_TASK_STATUS" "{\\"message\\":\\"using $DEPLOY_KEY and $ENV_KEY\\",\\"progress\\":0.5}"
          post "$CO_TASK_STATUS" 'not json'
          post "$CO_TASK_RESULT" "{\\"status\\":\\"success\\",\\"output\\":{\\"key\\":\\"$DEPLOY_KEY\\"}}"
          post "$CO_COMPONENT_STOP" '{}'
`;
}

/** Send `text` over a plain TCP connection to `base` and wait for the server to close it. */
function rawRequest(base: string, text: string): Promise<void> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

/**
 * The captured log, plus the text of every byte array in it (a serialized Buffer is
 * `{"type":"Buffer","data":[71,69,84,…]}`: the token would hide there as numbers).
 */
function haystack(h: ApiHarness): string {
  const text = h.logText();
  const decoded = [...text.matchAll(/"data":\[([\d,]+)\]/g)].map((m) =>
    Buffer.from((m[1] ?? '').split(',').map(Number)).toString('latin1'),
  );
  return [text, ...decoded].join('\n');
}

describe('no token and no secret in any server log line (log level trace)', () => {
  let h: ApiHarness;
  let callbackUrls: string[];
  let callbackTokens: string[];
  let readToken: string;
  before(async () => {
    h = await createApiHarness({
      config: { logLevel: 'trace' },
      env: { PILOTAGE_SECRET_ENV_KEY: ENV_SECRET },
    });
    const base = h.server.url;
    const api = (method: string, path: string, body?: string, type = 'application/json') =>
      fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${h.admin}`, ...(body === undefined ? {} : { 'content-type': type }) },
        ...(body === undefined ? {} : { body }),
      });
    // everything through the API over real HTTP: the secret store, the workflow, the run
    const put = await api('PUT', '/v1/secrets/DEPLOY_KEY', JSON.stringify({ value: SECRET }));
    assert.equal(put.status, 201, await put.text());
    const envFile = join(h.dir, 'component.env');
    const applied = await api('POST', '/v1/workflows', workflowText(envFile), 'application/yaml');
    assert.ok(applied.status < 300, await applied.text());
    const started = await api('POST', '/v1/workflows/leaky/runs', JSON.stringify({ data: {} }));
    const startedText = await started.text();
    assert.equal(started.status, 201, startedText);
    const runId = (JSON.parse(startedText) as { id: string }).id;
    const final = await h.server.runtime.engine.waitForRun(runId);
    assert.equal(final.state, 'succeeded', final.reason ?? '');
    const shown = await api('GET', `/v1/runs/${runId}`);
    assert.equal(shown.status, 200);

    const env = await readFile(envFile, 'utf8');
    assert.match(env, new RegExp(`DEPLOY_KEY=${SECRET}`), 'the component got the stored secret');
    assert.match(env, new RegExp(`ENV_KEY=${ENV_SECRET}`), 'the component got the configured secret');
    callbackUrls = [...env.matchAll(/^CO_[A-Z_]+=(http:\/\/\S+\/v1\/callbacks\/\S+)$/gm)].map((m) => m[1] ?? '');
    callbackTokens = [...new Set(callbackUrls.map((u) => /\/v1\/callbacks\/([^/]+)\//.exec(u)?.[1] ?? ''))];
    assert.equal(callbackTokens.length, 1, env);
    assert.ok((callbackTokens[0] ?? '').length >= 20);

    // after the end: callbacks with the (now dead) token, a wrong token, a token in a query string
    for (const url of callbackUrls) await fetch(url, { method: 'POST', body: '{}' });
    await fetch(`${base}/v1/callbacks/${callbackTokens[0]}/data`);
    await fetch(`${base}/v1/callbacks/${callbackTokens[0]}/nope/deeper?x=1`);
    // API calls over real HTTP: good token, bad token, token in the query string, 404, malformed JSON
    readToken = await h.token('read');
    await fetch(`${base}/v1/tokens`, { headers: { authorization: `Bearer ${h.admin}` } });
    await fetch(`${base}/v1/tokens`, { headers: { authorization: `Bearer ${readToken}` } });
    await fetch(`${base}/v1/tokens?token=${readToken}&secret=${SECRET_IN_QUERY}`);
    await fetch(`${base}/v1/nowhere?access_token=${readToken}`, { headers: { authorization: `Bearer ${h.admin}` } });
    await fetch(`${base}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/json' },
      body: `{"name": "${SECRET}", "scopes": [`,
    });
    const created = await fetch(`${base}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'made-over-http', scopes: ['read'] }),
    });
    assert.equal(created.status, 201);
    readToken = `${readToken} ${((await created.json()) as { token: string }).token}`;
    await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${h.admin}` } });
    // a malformed request (Node's parser rejects it; Fastify logs the client error at trace level)
    await rawRequest(
      base,
      `GET /v1/callbacks/${callbackTokens[0]}/data?secret=${SECRET} HTTP/1.1\r\nHost: x\r\n` +
        `Authorization: Bearer ${h.admin}\r\nX-Key: ${SECRET}\r\nBad Header Line\r\n\r\n`,
    );
  });
  after(async () => h.close());

  test('the server logged at trace level, requests included', () => {
    const lines = h.logText().trim().split('\n');
    for (const line of lines) JSON.parse(line);
    const clientError = lines.find((l) => l.includes('"msg":"client error"'));
    assert.ok(clientError !== undefined, 'the malformed request was logged (trace)');
    assert.match(clientError, /HPE_INVALID_HEADER_TOKEN/);
    assert.doesNotMatch(clientError, /rawPacket/);
    assert.match(h.logText(), /request completed/);
    assert.match(h.logText(), /\/v1\/tokens\?token=\[redacted\]&secret=\[redacted\]/);
  });

  test('no API token in the log', () => {
    const text = haystack(h);
    assert.ok(!text.includes(h.admin), 'admin token');
    for (const token of readToken.split(' ')) assert.ok(!text.includes(token), 'read token');
    assert.doesNotMatch(text, /plt_[A-Za-z0-9_-]{16,}/);
    assert.doesNotMatch(text, /"authorization"/i);
  });

  test('no callback token in the log, and no callback URL', () => {
    const text = haystack(h);
    for (const token of callbackTokens) assert.ok(!text.includes(token), 'callback token');
    assert.doesNotMatch(text, /\/v1\/callbacks\/(?!\[redacted\])/, 'callback URLs are never logged unredacted');
  });

  test('no secret value in the log', () => {
    const text = haystack(h);
    assert.ok(!text.includes(SECRET), 'the stored secret');
    assert.ok(!text.includes(ENV_SECRET), 'the configured secret');
    assert.ok(!text.includes(SECRET_IN_QUERY), 'a secret query parameter');
  });
});
