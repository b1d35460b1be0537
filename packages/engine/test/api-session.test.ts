import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyWorkflow, waitForEnd } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

/** The `Set-Cookie` of an answer, parsed: value and attributes (lowercase names). */
function setCookie(raw: { headers: Record<string, unknown> }): { value: string; attrs: Record<string, string> } {
  const header = raw.headers['set-cookie'];
  const text = Array.isArray(header) ? String(header[0]) : String(header ?? '');
  const [pair = '', ...rest] = text.split(/;\s*/);
  const attrs: Record<string, string> = {};
  for (const part of rest) {
    const [k = '', v = ''] = part.split('=');
    attrs[k.toLowerCase()] = v;
  }
  return { value: pair.slice(pair.indexOf('=') + 1), attrs };
}

describe('web UI sessions (cookie + CSRF)', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness({ options: { uiDir: false } });
    await applyWorkflow(h, 'hello', 'stages:\n  - name: one\n    actions:\n      - name: say\n        run: echo hi\n');
  });
  after(() => h.close());

  const signIn = async (token: string) => {
    const answer = await h.call('POST', '/v1/session', { token: null, body: { token } });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return { cookie: setCookie(answer.raw), info: answer.body };
  };
  const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({
    token: null,
    headers: { cookie: `pilotage_session=${cookie}`, ...extra },
  });

  test('a valid token opens a session: an HttpOnly, SameSite=Strict cookie for /v1, and no token in the answer', async () => {
    const { cookie, info } = await signIn(h.admin);
    assert.equal(cookie.attrs.path, '/v1');
    assert.ok('httponly' in cookie.attrs);
    assert.equal(cookie.attrs.samesite, 'Strict');
    assert.ok(Number(cookie.attrs['max-age']) > 0 && Number(cookie.attrs['max-age']) <= 12 * 3600);
    assert.equal(info.name, 'test-admin');
    assert.deepEqual(info.scopes, ['admin']);
    assert.ok(typeof info.csrf === 'string' && info.csrf.length >= 32);
    assert.ok(!JSON.stringify(info).includes(h.admin));
    assert.ok(!cookie.value.includes(h.admin), 'the cookie is a session id, not the token');
    const again = await h.call('GET', '/v1/session', withCookie(cookie.value));
    assert.equal(again.status, 200);
    assert.equal(again.body.csrf, info.csrf);
  });

  test('a bad token opens nothing; without a session GET /v1/session answers 204', async () => {
    const bad = await h.call('POST', '/v1/session', { token: null, body: { token: 'plt_nope' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.raw.headers['set-cookie'], undefined);
    assert.equal((await h.call('POST', '/v1/session', { token: null, body: {} })).status, 400);
    assert.equal((await h.call('GET', '/v1/session', { token: null })).status, 204);
    const stale = await h.call('GET', '/v1/session', withCookie('not-a-session'));
    assert.equal(stale.status, 204);
    assert.match(String(stale.raw.headers['set-cookie']), /pilotage_session=;/, 'a stale cookie is cleared');
    assert.equal((await h.call('GET', '/v1/runs', withCookie('not-a-session'))).status, 401);
  });

  test('reads work with the cookie alone, the live stream included', async () => {
    const { cookie } = await signIn(h.admin);
    const runs = await h.call('GET', '/v1/runs', withCookie(cookie.value));
    assert.equal(runs.status, 200);
    const started = await h.call('POST', '/v1/workflows/hello/runs', { body: {} });
    await waitForEnd(h, started.body.id);
    // an ended run's stream sends its snapshot and end, then closes
    const stream = await fetch(`${h.server.url}/v1/runs/${started.body.id}/events`, {
      headers: { cookie: `pilotage_session=${cookie.value}` },
    });
    assert.equal(stream.status, 200);
    const text = await stream.text();
    assert.match(text, /event: snapshot/);
    assert.match(text, /event: end/);
  });

  test('writes need the CSRF header and a same-origin Origin', async () => {
    const { cookie, info } = await signIn(h.admin);
    const none = await h.call('POST', '/v1/workflows/hello/runs', { ...withCookie(cookie.value), body: {} });
    assert.equal(none.status, 403);
    assert.match(none.body.message, /x-pilotage-csrf/);
    const wrong = await h.call('POST', '/v1/workflows/hello/runs', {
      ...withCookie(cookie.value, { 'x-pilotage-csrf': 'guess' }),
      body: {},
    });
    assert.equal(wrong.status, 403);
    const foreign = await h.call('POST', '/v1/workflows/hello/runs', {
      ...withCookie(cookie.value, {
        'x-pilotage-csrf': info.csrf,
        origin: 'https://evil.example',
        host: 'localhost:80',
      }),
      body: {},
    });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.message, /evil\.example/);
    const right = await h.call('POST', '/v1/workflows/hello/runs', {
      ...withCookie(cookie.value, { 'x-pilotage-csrf': info.csrf }),
      body: {},
    });
    assert.equal(right.status, 201, JSON.stringify(right.body));
    assert.equal(right.body.trigger.by, 'test-admin', 'the session acts as its token');
    await waitForEnd(h, right.body.id);
  });

  test('the token’s scopes apply; revoking the token ends its sessions; sign-out ends one', async () => {
    const reader = await h.token('read');
    const { cookie, info } = await signIn(reader);
    assert.deepEqual(info.scopes, ['read']);
    const start = await h.call('POST', '/v1/workflows/hello/runs', {
      ...withCookie(cookie.value, { 'x-pilotage-csrf': info.csrf }),
      body: {},
    });
    assert.equal(start.status, 403);
    const list = await h.call('GET', '/v1/tokens');
    const id = list.body.find((t: any) => t.name === 'test-read').id;
    assert.equal((await h.call('DELETE', `/v1/tokens/${id}`)).status, 204);
    const after = await h.call('GET', '/v1/runs', withCookie(cookie.value));
    assert.equal(after.status, 401);
    assert.match(after.body.message, /session has ended/);

    const mine = await signIn(h.admin);
    const out = await h.call('DELETE', '/v1/session', withCookie(mine.cookie.value));
    assert.equal(out.status, 204);
    assert.match(String(out.raw.headers['set-cookie']), /pilotage_session=;/);
    assert.equal((await h.call('GET', '/v1/runs', withCookie(mine.cookie.value))).status, 401);
  });

  test('a bearer token still wins over a cookie', async () => {
    const answer = await h.call('GET', '/v1/runs', { headers: { cookie: 'pilotage_session=garbage' } });
    assert.equal(answer.status, 200);
  });
});

describe('the web UI’s files', () => {
  let h: ApiHarness;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><meta name="csp-nonce" content="__PILOTAGE_CSP_NONCE__"><script type="module" src="/assets/app-1a2b.js"></script>',
    );
    await writeFile(join(dir, 'assets', 'app-1a2b.js'), 'console.log("ui")');
    h = await createApiHarness({ options: { uiDir: dir } });
  });
  after(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('/ and every page of the UI answer the page with a strict CSP and a fresh nonce', async () => {
    const nonces = new Set<string>();
    for (const path of ['/', '/runs/01ABC', '/workflows/x/edit']) {
      const page = await h.call('GET', path, { token: null, headers: { accept: 'text/html' } });
      assert.equal(page.status, 200, path);
      assert.match(String(page.raw.headers['content-type']), /text\/html/);
      const csp = String(page.raw.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self';/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe/);
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1] ?? '';
      assert.ok(page.raw.payload.includes(`content="${nonce}"`), 'the page carries the nonce of its header');
      nonces.add(nonce);
      assert.equal(page.raw.headers['cache-control'], 'no-cache');
      assert.equal(page.raw.headers['x-frame-options'], 'DENY');
    }
    assert.equal(nonces.size, 3, 'a fresh nonce per page');
  });

  test('assets are served with the CSP and cached for a year; the API keeps its JSON 404s', async () => {
    const asset = await h.call('GET', '/assets/app-1a2b.js', { token: null });
    assert.equal(asset.status, 200);
    assert.match(String(asset.raw.headers['cache-control']), /immutable/);
    assert.ok(asset.raw.headers['content-security-policy']);
    const api = await h.call('GET', '/v1/nope', { token: null, headers: { accept: 'text/html' } });
    assert.equal(api.status, 404);
    assert.equal(api.body.code, 'NOT_FOUND');
    const json = await h.call('GET', '/nope.json', { token: null, headers: { accept: 'application/json' } });
    assert.equal(json.status, 404);
  });

  test('without a built UI, / says how to build it', async () => {
    const bare = await createApiHarness({ options: { uiDir: false } });
    try {
      const page = await bare.call('GET', '/', { token: null, headers: { accept: 'text/html' } });
      assert.equal(page.status, 404);
      assert.match(page.body.message, /npm run build/);
    } finally {
      await bare.close();
    }
  });
});

describe('routes the editors use', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness({ options: { uiDir: false } });
  });
  after(() => h.close());

  test('checking a workflow answers the verdict with each issue’s line, and stores nothing', async () => {
    const good =
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: w\nstages:\n  - name: s\n    actions:\n      - name: a\n        run: echo\n';
    const ok = await h.call('POST', '/v1/workflows/check', { token: await h.token('read'), body: { source: good } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.valid, true);
    assert.equal(ok.body.name, 'w');
    const bad = await h.call('POST', '/v1/workflows/check', {
      body: { source: good.replace('run: echo', 'component: missing@1.0.0'), file: 'w.yaml' },
    });
    assert.equal(bad.status, 200);
    assert.equal(bad.body.valid, false);
    assert.equal(bad.body.issues[0].file, 'w.yaml');
    assert.equal(bad.body.issues[0].line, 8);
    assert.match(bad.body.issues[0].message, /missing/);
    assert.equal((await h.call('GET', '/v1/workflows')).body.length, 0);
  });

  test('checking a component; where a component is used; the published schemas', async () => {
    const component = 'apiVersion: pilotage.dev/v1\nkind: Component\nname: tool\nversion: 1.0.0\ncommand: ["true"]\n';
    const checked = await h.call('POST', '/v1/components/check', { body: { source: component } });
    assert.deepEqual([checked.body.valid, checked.body.name, checked.body.version], [true, 'tool', '1.0.0']);
    const broken = await h.call('POST', '/v1/components/check', {
      body: { source: component.replace('1.0.0', 'one') },
    });
    assert.equal(broken.body.valid, false);
    assert.equal(broken.body.issues[0].line, 4);
    assert.equal((await h.call('POST', '/v1/components', { body: { source: component } })).status, 201);
    await applyWorkflow(
      h,
      'uses-tool',
      'stages:\n  - name: s\n    actions:\n      - name: t\n        component: tool@1.0.0\n',
    );
    const usage = await h.call('GET', '/v1/components/tool/usage');
    assert.deepEqual(usage.body, {
      name: 'tool',
      workflows: [
        { workflow: 'uses-tool', version: 1, actions: [{ stage: 's', action: 't', component: 'tool@1.0.0' }] },
      ],
    });
    assert.deepEqual((await h.call('GET', '/v1/components/other/usage')).body.workflows, []);
    const schema = await h.call('GET', '/v1/schemas/workflow');
    assert.equal(schema.status, 200);
    assert.ok(schema.body.properties.stages);
    assert.equal((await h.call('GET', '/v1/schemas/nope')).status, 400);
    assert.equal((await h.call('GET', '/v1/schemas/workflow', { token: null })).status, 401);
  });
});
