import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signStandardWebhook } from '../src/service/webhook-signature.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

/**
 * Issue 9, item 5: the smaller holes. Each test sends what an attacker (or a careless client)
 * would, to a real server over HTTP or through `inject`.
 */

const HOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Send raw bytes to the server and read until it closes the connection (or 5 s). */
function rawRequest(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let out = '';
    const socket = connect(Number(port), hostname, () => socket.write(text));
    socket.on('data', (chunk) => (out += chunk.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

/** The status and JSON body of a raw HTTP answer. */
function parseRaw(answer: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  return { status, body: JSON.parse(body) };
}

describe('issue 9: the smaller holes', () => {
  let h: ApiHarness;
  let componentDir: string;
  let read: string;

  before(async () => {
    h = await createApiHarness();
    const secret = await h.call('PUT', '/v1/secrets/WEBHOOK_SECRET', { body: { value: HOOK_SECRET } });
    assert.equal(secret.status, 201);
    read = await h.token('read');
    componentDir = await mkdtemp(join(tmpdir(), 'pilotage-holes-'));
    await writeFile(join(componentDir, 'run.sh'), '#!/bin/sh\necho "[COUT] ran=yes"\n');
    await chmod(join(componentDir, 'run.sh'), 0o755);
    const source = `apiVersion: pilotage.dev/v1
kind: Component
name: local-tool
version: 1.0.0
command: [./run.sh]
`;
    const registered = await h.call('POST', '/v1/components', { body: { source, dir: componentDir } });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const workflow = `apiVersion: pilotage.dev/v1
kind: Workflow
name: holes
triggers:
  - webhook: { provider: generic }
stages:
  - name: s
    actions:
      - { name: tool, component: local-tool@1.0.0 }
`;
    const applied = await h.call('POST', '/v1/workflows', { body: { source: workflow, file: 'holes.yaml' } });
    assert.equal(applied.status, 201, JSON.stringify(applied.body));
  });
  after(async () => {
    await h.close();
    await rm(componentDir, { recursive: true, force: true });
  });

  test('token names are at most 200 characters', async () => {
    const long = await h.call('POST', '/v1/tokens', { body: { name: 'n'.repeat(201), scopes: ['read'] } });
    assert.equal(long.status, 400);
    assert.equal(long.body.code, 'VALIDATION');
    assert.equal(long.body.details[0].field, 'body.name');
    const fits = await h.call('POST', '/v1/tokens', { body: { name: 'n'.repeat(200), scopes: ['read'] } });
    assert.equal(fits.status, 201);
    await assert.rejects(h.server.tokens.issue({ name: 'x'.repeat(201), scopes: ['read'] }), /at most 200 characters/);
  });

  test('413, 414 and 431 are answered as {code, message}', async () => {
    const tooLarge = await fetch(`${h.server.url}/v1/workflows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/yaml' },
      body: 'x'.repeat(2 * 1024 * 1024),
    });
    assert.equal(tooLarge.status, 413);
    assert.deepEqual(Object.keys((await tooLarge.json()) as object).sort(), ['code', 'message']);

    const longUrl = await fetch(`${h.server.url}/v1/runs?cursor=${'a'.repeat(9000)}`, {
      headers: { authorization: `Bearer ${h.admin}` },
    });
    assert.equal(longUrl.status, 414);
    const uri = (await longUrl.json()) as { code: string; message: string };
    assert.equal(uri.code, 'URI_TOO_LONG');
    assert.match(uri.message, /over the 8192/);

    for (const request of [
      `GET /v1/runs HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      `GET /v1/runs?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]) {
      const { status, body } = parseRaw(await rawRequest(h.server.url, request));
      assert.equal(status, 431);
      assert.equal(body.code, 'HEADERS_TOO_LARGE');
      assert.equal(typeof body.message, 'string');
    }
    const garbage = parseRaw(await rawRequest(h.server.url, 'NOT HTTP AT ALL\r\n\r\n'));
    assert.deepEqual([garbage.status, garbage.body.code], [400, 'BAD_REQUEST']);
  });

  test('a read token sees no server path and no process id; an admin token does', async () => {
    const started = await h.call('POST', '/v1/workflows/holes/runs', { body: {} });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const ended = await h.server.runtime.engine.waitForRun(started.body.id);
    assert.equal(ended.state, 'succeeded', ended.reason ?? '');

    const asAdmin = await h.call('GET', `/v1/runs/${started.body.id}`);
    const adminTask = asAdmin.body.actions[0].attempts[0];
    assert.match(adminTask.ref, /^\d+$/, 'admins see the pid');
    assert.equal(adminTask.facts.command, join(componentDir, 'run.sh'));

    const asReader = await h.call('GET', `/v1/runs/${started.body.id}`, { token: read });
    const readerTask = asReader.body.actions[0].attempts[0];
    assert.equal(readerTask.ref, null);
    assert.deepEqual(readerTask.facts, {});
    assert.deepEqual(readerTask.output, { ran: 'yes' });

    const snapshot = await h.call('GET', `/v1/runs/${started.body.id}/events`, { token: read });
    assert.equal(snapshot.status, 200);
    assert.ok(!String(snapshot.body).includes(componentDir), 'the live stream shows no path');
    assert.ok(!String(snapshot.body).includes(`"ref":"${adminTask.ref}"`), 'nor the pid');

    const component = await h.call('GET', '/v1/components/local-tool/1.0.0', { token: read });
    assert.equal(component.body.dir, null);
    assert.equal((await h.call('GET', '/v1/components/local-tool/1.0.0')).body.dir, componentDir);

    const version = await h.call('GET', '/v1/workflows/holes/versions/1', { token: read });
    assert.equal(version.status, 200);
    assert.ok(!JSON.stringify(version.body).includes(componentDir), 'no component folder in the plan');
    const adminVersion = await h.call('GET', '/v1/workflows/holes/versions/1');
    assert.ok(JSON.stringify(adminVersion.body).includes(componentDir), 'admins see it');
  });

  test('the OpenAPI document: callbacks need no bearer token; defaulted query parameters are optional', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    const callback = doc.paths['/v1/callbacks/{token}/{step}'];
    assert.deepEqual(callback.post.security, []);
    assert.deepEqual(callback.get.security, []);
    assert.equal(doc.paths['/v1/callbacks/*'], undefined, 'the catch-all is not documented');
    const defaulted: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        for (const parameter of operation.parameters ?? []) {
          if (parameter.in !== 'query' || parameter.schema?.default === undefined) continue;
          defaulted.push(`${method} ${path} ${parameter.name}`);
          assert.notEqual(parameter.required, true, `${method} ${path}: ${parameter.name} has a default`);
        }
      }
    }
    assert.ok(defaulted.includes('get /v1/runs limit'), defaulted.join(', '));
    const rerun = doc.paths['/v1/runs/{id}/rerun'].post.requestBody.content['application/json'].schema;
    assert.ok(!(rerun.required ?? []).includes('from'), 'from has a default');
    // the defaults still apply
    const page = await h.call('GET', '/v1/runs', { token: read });
    assert.equal(page.status, 200);
  });

  test('__proto__, constructor and prototype keys are refused with the field (JSON) or line and column (YAML)', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const answer = await h.call('POST', '/v1/workflows/holes/runs', {
        payload: `{"data": {"a": [{"${key}": {"polluted": true}}]}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(answer.status, 400, key);
      assert.equal(answer.body.code, 'VALIDATION');
      assert.equal(answer.body.details[0].field, `body.data.a[0].${key}`);
      assert.match(answer.body.message, /is not allowed/);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);

    const yaml = `apiVersion: pilotage.dev/v1
kind: Workflow
name: polluting
stages:
  - name: s
    actions:
      - name: a
        run: "true"
        with:
          __proto__: { polluted: true }
`;
    const applied = await h.call('POST', '/v1/workflows', { body: { source: yaml, file: 'polluting.yaml' } });
    assert.equal(applied.status, 422);
    const issue = applied.body.details[0];
    assert.deepEqual([issue.file, issue.line, issue.column], ['polluting.yaml', 10, 11]);
    assert.match(issue.message, /"__proto__" is not allowed/);

    const body = '{"type": "deploy", "data": {"constructor": {"prototype": 1}}}';
    const now = String(Math.floor(Date.now() / 1000));
    const hook = await h.call('POST', '/v1/hooks/holes/generic', {
      token: null,
      payload: body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_proto',
        'webhook-timestamp': now,
        'webhook-signature': signStandardWebhook(HOOK_SECRET, 'msg_proto', now, body),
      },
    });
    assert.equal(hook.status, 400);
    assert.equal(hook.body.details[0].field, 'body.data.constructor');
  });

  test('a file that is not YAML is not echoed back', async () => {
    const secretText = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
    // one scalar (a PEM key, a line of text): YAML reads each file as one long string
    for (const body of [secretText, 'password=hunter2hunter2 and more words']) {
      const answer = await h.call('POST', '/v1/workflows', {
        payload: body,
        headers: { 'content-type': 'application/yaml' },
      });
      assert.equal(answer.status, 422);
      const text = JSON.stringify(answer.body);
      assert.ok(!text.includes('MIIEvQ') && !text.includes('hunter2'), text);
      assert.match(answer.body.message + text, /is this a YAML or JSON file/);
    }
    const notJson = await h.call('POST', '/v1/workflows/holes/runs', {
      payload: '{"data": "hunter2hunter2',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 400);
    assert.ok(!JSON.stringify(notJson.body).includes('hunter2'));
  });
});
