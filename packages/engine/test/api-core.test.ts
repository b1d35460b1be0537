import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyWorkflow, waitForEnd } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

describe('API core: health, OpenAPI, errors, tokens and auth', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness();
  });
  after(async () => h.close());

  test('healthz and readyz answer without a token', async () => {
    assert.deepEqual((await h.call('GET', '/healthz', { token: null })).body, { ok: true });
    assert.deepEqual((await h.call('GET', '/readyz', { token: null })).body, { ok: true });
  });

  test('readyz answers 503 while the server refuses new work', async () => {
    h.server.lifecycle.accepting = false;
    try {
      const answer = await h.call('GET', '/readyz', { token: null });
      assert.equal(answer.status, 503);
      assert.deepEqual(answer.body, { ok: false, reason: 'shutting down' });
    } finally {
      h.server.lifecycle.accepting = true;
    }
  });

  test('readyz answers 503 while the replica holds no lease (lost, not yet registered again)', async () => {
    const engine = h.server.runtime.engine;
    // a run makes the replica take its lease
    await applyWorkflow(h, 'lease-probe', 'stages:\n  - name: s\n    actions:\n      - { name: a, run: "true" }\n');
    const run = await h.call('POST', '/v1/workflows/lease-probe/runs', { body: { data: {} } });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    await waitForEnd(h, run.body.id);
    assert.notEqual(engine.replicaId, undefined);
    assert.equal(engine.withoutLease, false);
    Object.defineProperty(engine, 'withoutLease', { value: true, configurable: true });
    try {
      const answer = await h.call('GET', '/readyz', { token: null });
      assert.equal(answer.status, 503);
      assert.deepEqual(answer.body, { ok: false, reason: 'this replica holds no lease on the store now' });
    } finally {
      delete (engine as { withoutLease?: boolean }).withoutLease;
    }
    assert.equal((await h.call('GET', '/readyz', { token: null })).status, 200);
  });

  test('the OpenAPI document lists the routes and the bearer scheme; /docs renders it', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/v1/tokens'], 'tokens route documented');
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
    assert.deepEqual(doc.components.schemas.Error.required, ['code', 'message']);
    assert.equal(
      doc.paths['/v1/tokens'].post.responses['401'].content['application/json'].schema.$ref,
      '#/components/schemas/Error',
    );
    const page = await h.call('GET', '/docs/', { token: null });
    assert.equal(page.status, 200);
    assert.match(String(page.body), /swagger/i);
  });

  test('the first start wrote an admin token file with mode 0600 that works', async () => {
    const file = join(h.dir, 'admin-token');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const token = (await readFile(file, 'utf8')).trim();
    assert.match(token, /^plt_/);
    assert.equal((await h.call('GET', '/v1/tokens', { token })).status, 200);
  });

  test('a route under /v1 without a token, with a bad token or a revoked one is 401', async () => {
    const none = await h.call('GET', '/v1/tokens', { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'UNAUTHORIZED');
    assert.equal((await h.call('GET', '/v1/tokens', { token: 'plt_nope' })).status, 401);
    const created = await h.call('POST', '/v1/tokens', { body: { name: 'short', scopes: ['admin'] } });
    assert.equal(created.status, 201);
    assert.equal((await h.call('GET', '/v1/tokens', { token: created.body.token })).status, 200);
    assert.equal((await h.call('DELETE', `/v1/tokens/${created.body.info.id}`)).status, 204);
    assert.equal((await h.call('GET', '/v1/tokens', { token: created.body.token })).status, 401);
  });

  test('a token without the scope gets 403 naming the scope needed', async () => {
    const reader = await h.token('read');
    const answer = await h.call('GET', '/v1/tokens', { token: reader });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.code, 'FORBIDDEN');
    assert.match(answer.body.message, /needs admin/);
  });

  test('validation errors are 400 VALIDATION naming each field', async () => {
    const answer = await h.call('POST', '/v1/tokens', { body: { scopes: ['root'] } });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.code, 'VALIDATION');
    const fields = answer.body.details.map((d: { field: string }) => d.field);
    assert.ok(fields.includes('body.name'), JSON.stringify(answer.body));
    assert.ok(
      fields.some((f: string) => f.startsWith('body.scopes.0')),
      JSON.stringify(answer.body),
    );
    const ttl = await h.call('POST', '/v1/tokens', { body: { name: 'x', scopes: ['read'], ttl: 'soon' } });
    assert.equal(ttl.status, 400);
    assert.deepEqual(ttl.body.details, [
      { field: 'body.ttl', message: 'must be a duration such as 30d or 12h, got "soon"' },
    ]);
  });

  test('malformed JSON is 400 and an unknown route is 404, both as {code, message}', async () => {
    const bad = await h.call('POST', '/v1/tokens', {
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'BAD_REQUEST');
    const missing = await h.call('GET', '/v1/nothing-here?token=abc');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'NOT_FOUND');
    assert.doesNotMatch(missing.body.message, /abc/);
  });

  test('no token appears in any log line', async () => {
    await h.call('GET', '/v1/tokens');
    const text = h.logText();
    assert.ok(text.length > 0, 'the server logged');
    assert.ok(!text.includes(h.admin), 'the admin token is not logged');
    assert.doesNotMatch(text, /plt_[A-Za-z0-9_-]{20,}/);
  });
});
