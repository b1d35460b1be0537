import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WEBHOOK_REFUSED } from '../src/service/webhook-receiver.js';
import { signStandardWebhook } from '../src/service/webhook-signature.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

const HOOK_SECRET = 'hook-Secret-7731-xyz';

const HOOKED = `apiVersion: pilotage.dev/v1
kind: Workflow
name: hooked
inputs:
  type: object
  properties:
    repo: { type: string }
    ref: { type: string, default: main }
    source: { type: string }
  required: [repo]
triggers:
  - webhook:
      provider: github
      events: [push, pull_request.opened]
      inputs:
        repo: "\${{ payload.repository.clone_url }}"
        ref: "\${{ payload.ref }}"
        source: "github \${{ headers['x-github-event'] }}"
  - webhook:
      provider: gitlab
      events: [push]
      inputs:
        repo: "\${{ payload.project.git_http_url }}"
        ref: "\${{ payload.ref }}"
        source: gitlab
  - webhook:
      provider: generic
      events: [deploy]
      inputs:
        repo: "\${{ payload.repo }}"
        source: generic
stages:
  - name: build
    actions:
      - name: show
        with: { repo: "\${{ inputs.repo }}", ref: "\${{ inputs.ref }}" }
        run: echo "building $CO_INPUT_REPO at $CO_INPUT_REF"
`;

const NO_SECRET = `apiVersion: pilotage.dev/v1
kind: Workflow
name: unsigned
triggers:
  - webhook: { provider: github }
stages:
  - name: a
    actions:
      - { name: a, run: "true" }
`;

/** The published Standard Webhooks test vector's secret (whsec_: base64 of the HMAC key). */
const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const STANDARD = `apiVersion: pilotage.dev/v1
kind: Workflow
name: standard
inputs: { type: object, properties: { test: { type: integer } } }
triggers:
  - webhook: { provider: generic, inputs: { test: "\${{ payload.test }}" } }
stages:
  - name: a
    actions:
      - { name: a, run: "true" }
`;

const sign = (body: string, secret = HOOK_SECRET): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('webhooks', () => {
  let h: ApiHarness;
  let deliveries = 0;
  const delivery = (): string => `delivery-${++deliveries}-${Date.now()}`;

  const runsOf = async (workflow: string) =>
    (await h.server.runtime.store.runs.list({ workflow, limit: 500 })).map((r) => r.id);

  const github = (body: string, headers: Record<string, string> = {}) =>
    h.call('POST', '/v1/hooks/hooked/github', {
      token: null,
      payload: body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers },
    });

  before(async () => {
    h = await createApiHarness();
    for (const source of [HOOKED, NO_SECRET, STANDARD]) {
      const applied = await h.call('POST', '/v1/workflows', { body: { source } });
      assert.equal(applied.status, 201, JSON.stringify(applied.body));
    }
    const secret = await h.call('PUT', '/v1/secrets/WEBHOOK_SECRET', {
      body: { value: HOOK_SECRET, workflow: 'hooked' },
    });
    assert.equal(secret.status, 201);
    const standard = await h.call('PUT', '/v1/secrets/WEBHOOK_SECRET', {
      body: { value: STANDARD_SECRET, workflow: 'standard' },
    });
    assert.equal(standard.status, 201);
  });
  after(async () => h.close());

  test('GitHub: a signed push over real HTTP starts one run with the mapped inputs; a redelivery starts none', async () => {
    const body = JSON.stringify({
      ref: 'refs/heads/feature',
      repository: { clone_url: 'https://example.com/app.git' },
    });
    const id = delivery();
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': id,
      'x-hub-signature-256': sign(body),
    };
    const answer = await fetch(`${h.server.url}/v1/hooks/hooked/github`, { method: 'POST', headers, body });
    assert.equal(answer.status, 201);
    const started = (await answer.json()) as { runId: string; number: number; event: string };
    assert.equal(started.event, 'push');
    const run = await h.call('GET', `/v1/runs/${started.runId}`);
    assert.deepEqual(run.body.run.inputs, {
      repo: 'https://example.com/app.git',
      ref: 'refs/heads/feature',
      source: 'github push',
    });
    assert.deepEqual(run.body.run.trigger, { kind: 'webhook', by: 'github', details: { event: 'push', delivery: id } });
    const ended = await h.server.runtime.engine.waitForRun(started.runId);
    assert.equal(ended.state, 'succeeded', ended.reason ?? '');

    const before = await runsOf('hooked');
    const again = await fetch(`${h.server.url}/v1/hooks/hooked/github`, { method: 'POST', headers, body });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { duplicate: true, runId: started.runId });
    assert.deepEqual(await runsOf('hooked'), before, 'no second run');
  });

  test('GitHub: a bad or missing signature is 401, starts no run, and is logged without body or signature', async () => {
    const marker = `body-marker-${Date.now()}`;
    const body = JSON.stringify({ ref: marker, repository: { clone_url: 'https://x' } });
    const before = await runsOf('hooked');
    const forged = sign(body, 'not-the-secret');
    const bad = await github(body, { 'x-hub-signature-256': forged, 'x-github-delivery': delivery() });
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.body, { code: 'UNAUTHORIZED', message: WEBHOOK_REFUSED });
    const missing = await github(body, { 'x-github-delivery': delivery() });
    assert.equal(missing.status, 401);
    assert.deepEqual(missing.body, bad.body);
    // a signature over other bytes (the body re-serialised) is refused too
    const tampered = await github(body.replace(marker, `${marker}x`), { 'x-hub-signature-256': sign(body) });
    assert.equal(tampered.status, 401);
    assert.deepEqual(await runsOf('hooked'), before, 'no run');
    const log = h.logText();
    assert.match(log, /"reason":"bad X-Hub-Signature-256".*webhook refused/, 'the log says why');
    assert.match(log, /"reason":"missing X-Hub-Signature-256"/);
    assert.ok(!log.includes(marker), 'the body is not logged');
    assert.ok(!log.includes(forged.slice(7)), 'the signature is not logged');
    assert.ok(!log.includes(HOOK_SECRET), 'the secret is not logged');
  });

  test('GitHub: ping is answered without a run; an event not listed is 202 ignored; an action-qualified event matches', async () => {
    const before = await runsOf('hooked');
    const ping = JSON.stringify({ zen: 'Design for failure.' });
    const pong = await github(ping, { 'x-github-event': 'ping', 'x-hub-signature-256': sign(ping) });
    assert.equal(pong.status, 200);
    assert.deepEqual(pong.body, { pong: true });
    const issue = JSON.stringify({ action: 'opened' });
    const ignored = await github(issue, { 'x-github-event': 'issues', 'x-hub-signature-256': sign(issue) });
    assert.equal(ignored.status, 202);
    assert.match(ignored.body.ignored, /event issues is not one/);
    const closed = JSON.stringify({ action: 'closed', repository: { clone_url: 'https://x' } });
    const notOpened = await github(closed, { 'x-github-event': 'pull_request', 'x-hub-signature-256': sign(closed) });
    assert.equal(notOpened.status, 202);
    assert.deepEqual(await runsOf('hooked'), before, 'no run');
    const opened = JSON.stringify({ action: 'opened', ref: 'pr-1', repository: { clone_url: 'https://pr' } });
    const pr = await github(opened, { 'x-github-event': 'pull_request', 'x-hub-signature-256': sign(opened) });
    assert.equal(pr.status, 201, JSON.stringify(pr.body));
    await h.server.runtime.engine.waitForRun(pr.body.runId);
  });

  test('GitHub: the form-encoded content type (payload=) works; a body that is not JSON is 400', async () => {
    const json = JSON.stringify({ ref: 'form', repository: { clone_url: 'https://form' } });
    const form = `payload=${encodeURIComponent(json)}`;
    const answer = await github(form, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-hub-signature-256': sign(form),
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal((await h.server.runtime.engine.waitForRun(answer.body.runId)).inputs.repo, 'https://form');
    const broken = '{"ref": ';
    const bad = await github(broken, { 'x-hub-signature-256': sign(broken) });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION');
  });

  test('a payload the input mapping cannot read is 400 naming the input, and starts no run', async () => {
    const before = await runsOf('hooked');
    const body = JSON.stringify({ ref: 'x' });
    const answer = await github(body, { 'x-hub-signature-256': sign(body), 'x-github-delivery': delivery() });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.details[0].field, 'inputs.repo');
    assert.deepEqual(await runsOf('hooked'), before);
  });

  test('GitLab: the right X-Gitlab-Token starts a run; a wrong one is 401; a redelivery starts none', async () => {
    const body = JSON.stringify({
      object_kind: 'push',
      ref: 'refs/heads/main',
      project: { git_http_url: 'https://gl/app.git' },
    });
    const uuid = delivery();
    const headers = { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': uuid };
    const before = await runsOf('hooked');
    const wrong = await h.call('POST', '/v1/hooks/hooked/gitlab', {
      token: null,
      payload: body,
      headers: { ...headers, 'x-gitlab-token': 'wrong-token' },
    });
    assert.equal(wrong.status, 401);
    const none = await h.call('POST', '/v1/hooks/hooked/gitlab', { token: null, payload: body, headers });
    assert.equal(none.status, 401);
    assert.deepEqual(await runsOf('hooked'), before);
    const good = await h.call('POST', '/v1/hooks/hooked/gitlab', {
      token: null,
      payload: body,
      headers: { ...headers, 'x-gitlab-token': HOOK_SECRET },
    });
    assert.equal(good.status, 201, JSON.stringify(good.body));
    const run = await h.server.runtime.engine.waitForRun(good.body.runId);
    assert.deepEqual(run.inputs, { repo: 'https://gl/app.git', ref: 'refs/heads/main', source: 'gitlab' });
    assert.deepEqual(run.trigger, { kind: 'webhook', by: 'gitlab', details: { event: 'Push Hook', delivery: uuid } });
    const again = await h.call('POST', '/v1/hooks/hooked/gitlab', {
      token: null,
      payload: body,
      headers: { ...headers, 'x-gitlab-token': HOOK_SECRET },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal((await runsOf('hooked')).length, before.length + 1);
  });

  test('generic (Standard Webhooks): a signed request starts a run; expired, wrong id, wrong signature are refused; the id is deduplicated', async () => {
    const body = '{"test": 2432232314}';
    const standard = (headers: Record<string, string>) =>
      h.call('POST', '/v1/hooks/standard/generic', {
        token: null,
        payload: body,
        headers: { 'content-type': 'application/json', ...headers },
      });
    const signed = (id: string, timestamp: number, secret = STANDARD_SECRET) => ({
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(secret, id, String(timestamp), body),
    });
    const now = Math.floor(Date.now() / 1000);
    const refusals = [
      await standard(signed('msg_expired', now - 6 * 60)),
      await standard(signed('msg_future', now + 6 * 60)),
      await standard({ ...signed('msg_signed', now), 'webhook-id': 'msg_other' }),
      await standard(
        signed('msg_wrong_key', now, 'whsec_' + Buffer.from('not the key, 24 bytes ok').toString('base64')),
      ),
      await standard({ 'webhook-id': 'msg_nosig', 'webhook-timestamp': String(now) }),
    ];
    for (const answer of refusals) {
      assert.equal(answer.status, 401);
      assert.deepEqual(answer.body, { code: 'UNAUTHORIZED', message: WEBHOOK_REFUSED });
    }
    assert.deepEqual(await runsOf('standard'), []);
    const log = h.logText();
    for (const reason of ['5 minutes', 'bad webhook-signature', 'missing webhook-signature'])
      assert.ok(log.includes(reason), reason);

    const id = `msg_${now}`;
    const good = await standard(signed(id, now));
    assert.equal(good.status, 201, JSON.stringify(good.body));
    const run = await h.server.runtime.engine.waitForRun(good.body.runId);
    assert.deepEqual(run.inputs, { test: 2432232314 });
    assert.deepEqual(run.trigger, { kind: 'webhook', by: 'generic', details: { event: '', delivery: id } });
    // the same request again within its 5 minutes, re-signed or not: the id was seen
    const replay = await standard(signed(id, now));
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, { duplicate: true, runId: good.body.runId });
    const resigned = await standard(signed(id, now + 1));
    assert.deepEqual(resigned.body, { duplicate: true, runId: good.body.runId });
    // a new message with the same body is a new event for Standard Webhooks (its id decides)
    const next = await standard(signed(`${id}-2`, now));
    assert.equal(next.status, 201, JSON.stringify(next.body));
    await h.server.runtime.engine.waitForRun(next.body.runId);
    assert.equal((await runsOf('standard')).length, 2);
  });

  test('GitHub and GitLab: the body of an accepted delivery sent again under a new delivery id is refused as a replay', async () => {
    const body = JSON.stringify({ ref: `replayed-${Date.now()}`, repository: { clone_url: 'https://replay' } });
    const before = await runsOf('hooked');
    const first = await github(body, { 'x-hub-signature-256': sign(body), 'x-github-delivery': delivery() });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    await h.server.runtime.engine.waitForRun(first.body.runId);
    const replayed = await github(body, { 'x-hub-signature-256': sign(body), 'x-github-delivery': delivery() });
    assert.equal(replayed.status, 409);
    assert.equal(replayed.body.code, 'CONFLICT');
    assert.match(replayed.body.message, /replay/);
    assert.ok(replayed.body.message.includes(first.body.runId), 'it names the run the body started');
    const noDelivery = await github(body, { 'x-hub-signature-256': sign(body) });
    assert.equal(noDelivery.status, 409, 'without a delivery id too');
    assert.equal((await runsOf('hooked')).length, before.length + 1, 'one run only');
    assert.match(h.logText(), /webhook replay refused/);

    const push = JSON.stringify({
      object_kind: 'push',
      ref: `gl-${Date.now()}`,
      project: { git_http_url: 'https://gl' },
    });
    const gitlab = (uuid: string) =>
      h.call('POST', '/v1/hooks/hooked/gitlab', {
        token: null,
        payload: push,
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Push Hook',
          'x-gitlab-event-uuid': uuid,
          'x-gitlab-token': HOOK_SECRET,
        },
      });
    assert.equal((await gitlab(delivery())).status, 201);
    assert.equal((await gitlab(delivery())).status, 409);
  });

  test('unknown workflow, no trigger of the provider, no WEBHOOK_SECRET and a bad signature are answered alike (401)', async () => {
    const body = '{}';
    const headers = { 'content-type': 'application/json', 'x-github-event': 'push' };
    const answers = {
      unknown: await h.call('POST', '/v1/hooks/nope/github', {
        token: null,
        payload: body,
        headers: { ...headers, 'x-hub-signature-256': sign(body) },
      }),
      noTrigger: await h.call('POST', '/v1/hooks/unsigned/gitlab', {
        token: null,
        payload: body,
        headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'x' },
      }),
      noSecret: await h.call('POST', '/v1/hooks/unsigned/github', {
        token: null,
        payload: body,
        headers: { ...headers, 'x-hub-signature-256': sign(body) },
      }),
      badSignature: await h.call('POST', '/v1/hooks/hooked/github', {
        token: null,
        payload: body,
        headers: { ...headers, 'x-hub-signature-256': sign(body, 'wrong') },
      }),
    };
    for (const [name, answer] of Object.entries(answers)) {
      assert.equal(answer.status, 401, name);
      assert.deepEqual(answer.body, { code: 'UNAUTHORIZED', message: WEBHOOK_REFUSED }, name);
      assert.equal(answer.raw.headers['content-length'], answers.badSignature.raw.headers['content-length'], name);
    }
    assert.deepEqual(await runsOf('unsigned'), []);
    const log = h.logText();
    assert.match(log, /workflow nope not found/);
    assert.match(log, /has no WEBHOOK_SECRET secret/);
  });

  test('a disabled workflow is 202 ignored', async () => {
    assert.equal((await h.call('POST', '/v1/workflows/hooked/disable')).status, 200);
    try {
      const push = JSON.stringify({ ref: 'r', repository: { clone_url: 'https://x' } });
      const off = await github(push, { 'x-hub-signature-256': sign(push) });
      assert.equal(off.status, 202);
      assert.match(off.body.ignored, /disabled/);
    } finally {
      assert.equal((await h.call('POST', '/v1/workflows/hooked/enable')).status, 200);
    }
  });

  test('webhook routes are public: documented without the bearer scheme, an API token is not needed', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    for (const provider of ['github', 'gitlab', 'generic']) {
      const route = doc.paths[`/v1/hooks/{workflow}/${provider}`];
      assert.ok(route, provider);
      assert.deepEqual(route.post.security, []);
    }
  });
});

describe('webhooks: the replay window is a setting', () => {
  test('PILOTAGE_WEBHOOK_REPLAY_WINDOW=0 turns the body check off (the delivery id still deduplicates)', async () => {
    const h = await createApiHarness({ env: { PILOTAGE_WEBHOOK_REPLAY_WINDOW: '0' } });
    try {
      assert.equal(h.config.webhookReplayWindowMs, 0);
      assert.equal((await h.call('POST', '/v1/workflows', { body: { source: HOOKED } })).status, 201);
      const secret = await h.call('PUT', '/v1/secrets/WEBHOOK_SECRET', { body: { value: HOOK_SECRET } });
      assert.equal(secret.status, 201);
      const body = JSON.stringify({ ref: 'again', repository: { clone_url: 'https://again' } });
      const send = (id: string) =>
        h.call('POST', '/v1/hooks/hooked/github', {
          token: null,
          payload: body,
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': id,
            'x-hub-signature-256': sign(body),
          },
        });
      const first = await send('d-1');
      const second = await send('d-2');
      assert.deepEqual([first.status, second.status], [201, 201]);
      assert.equal((await send('d-2')).status, 200, 'a redelivery is still recognised');
      for (const answer of [first, second]) await h.server.runtime.engine.waitForRun(answer.body.runId);
    } finally {
      await h.close();
    }
  });
});
