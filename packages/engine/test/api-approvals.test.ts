import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli } from './support/cli.js';
import { eventually, processesOfRun } from './support/harness.js';

const gated = (name: string, timeout: string) => `apiVersion: pilotage.dev/v1
kind: Workflow
name: ${name}
stages:
  - name: build
    actions:
      - { name: build, run: "echo built" }
  - name: sign-off
    type: approval
    timeout: ${timeout}
  - name: deploy
    actions:
      - { name: deploy, run: "echo deployed" }
`;

interface Waiting {
  runId: string;
  stage: string;
  since: number;
  timeoutAt: number | null;
  taskRunId: string;
}

async function apply(h: ApiHarness, source: string): Promise<void> {
  const applied = await h.call('POST', '/v1/workflows', { body: { source } });
  assert.ok([200, 201].includes(applied.status), JSON.stringify(applied.body));
}

async function startWaiting(h: ApiHarness, workflow: string): Promise<{ runId: string; waiting: Waiting }> {
  const started = await h.call('POST', `/v1/workflows/${workflow}/runs`, { body: {} });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const runId: string = started.body.id;
  const waiting = await eventually(
    async () => {
      const list = (await h.call('GET', '/v1/approvals')).body as Waiting[];
      return list.find((w) => w.runId === runId);
    },
    15_000,
    `run ${runId} waiting for approval`,
  );
  return { runId, waiting };
}

describe('approval gates over the API', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness();
    await apply(h, gated('gated', '1h'));
  });
  after(async () => h.close());

  test('a waiting stage is listed with its timeout and holds no process; approve records who and why', async () => {
    const reader = await h.token('read');
    const runner = await h.token('run');
    const { runId, waiting } = await startWaiting(h, 'gated');
    assert.equal(waiting.stage, 'sign-off');
    assert.equal(waiting.timeoutAt, waiting.since + 3_600_000);
    const listed = await h.call('GET', '/v1/approvals', { token: reader });
    assert.equal(listed.status, 200);
    assert.deepEqual(await processesOfRun(runId), [], 'no component process while waiting');
    const task = await h.server.runtime.store.taskRuns.get(waiting.taskRunId);
    assert.equal(task?.executor, 'none');
    assert.equal(task?.ref, null);

    const answer = await h.call('POST', `/v1/runs/${runId}/stages/sign-off/approve`, {
      token: runner,
      body: { comment: 'ship it' },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.decision, 'approved');
    assert.equal(answer.body.by, 'test-run');
    assert.equal(answer.body.comment, 'ship it');
    assert.equal(answer.body.taskRun.state, 'succeeded');
    assert.equal(answer.body.taskRun.message, 'approved by test-run: ship it');
    assert.deepEqual(answer.body.taskRun.output, { approved: true, by: 'test-run', comment: 'ship it' });

    const ended = await h.server.runtime.engine.waitForRun(runId);
    assert.equal(ended.state, 'succeeded', ended.reason ?? '');
    const detail = (await h.call('GET', `/v1/runs/${runId}`)).body;
    const gate = detail.actions.find((a: { name: string }) => a.name === 'sign-off');
    const attempt = gate.attempts[0];
    assert.equal(attempt.reason, 'approved by test-run: ship it');
    assert.equal(attempt.transitions.at(-1).reason, 'approved by test-run: ship it');
    assert.equal(detail.actions.find((a: { name: string }) => a.name === 'deploy').state, 'succeeded');
    assert.ok(!((await h.call('GET', '/v1/approvals')).body as Waiting[]).some((w) => w.runId === runId));
  });

  test('reject fails the run with the approver and comment as its reason; later stages do not run', async () => {
    const { runId } = await startWaiting(h, 'gated');
    const answer = await h.call('POST', `/v1/runs/${runId}/stages/sign-off/reject`, { body: { comment: 'not today' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.decision, 'rejected');
    assert.equal(answer.body.taskRun.state, 'failed');
    const ended = await h.server.runtime.engine.waitForRun(runId);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.reason, 'approval sign-off rejected by test-admin: not today');
    const detail = (await h.call('GET', `/v1/runs/${runId}`)).body;
    assert.equal(detail.run.reason, 'approval sign-off rejected by test-admin: not today');
    assert.notEqual(detail.actions.find((a: { name: string }) => a.name === 'deploy').state, 'succeeded');
  });

  test('errors: 401 without token, 403 with read, 404 unknown run or stage, 409 not waiting, 400 bad body', async () => {
    const reader = await h.token('read');
    const { runId } = await startWaiting(h, 'gated');
    const url = `/v1/runs/${runId}/stages/sign-off/approve`;
    assert.equal((await h.call('GET', '/v1/approvals', { token: null })).status, 401);
    const none = await h.call('POST', url, { token: null, body: {} });
    assert.equal(none.status, 401);
    const low = await h.call('POST', url, { token: reader, body: {} });
    assert.equal(low.status, 403);
    assert.equal(low.body.code, 'FORBIDDEN');
    const bad = await h.call('POST', url, { body: { comment: { text: 'no' } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].field, 'body.comment');
    const extra = await h.call('POST', url, { body: { approver: 'someone else' } });
    assert.equal(extra.status, 400);
    assert.equal((await h.call('POST', '/v1/runs/01NOPE/stages/sign-off/approve', { body: {} })).status, 404);
    const notGate = await h.call('POST', `/v1/runs/${runId}/stages/build/approve`, { body: {} });
    assert.equal(notGate.status, 404);
    assert.match(notGate.body.message, /no approval stage build/);
    assert.equal((await h.call('POST', `/v1/runs/${runId}/stages/nope/reject`, { body: {} })).status, 404);
    // without a body at all it works (the comment is optional)
    const ok = await h.call('POST', url);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.comment, null);
    assert.equal(ok.body.taskRun.message, 'approved by test-admin');
    const twice = await h.call('POST', url, { body: {} });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'CONFLICT');
    await h.server.runtime.engine.waitForRun(runId);
  });

  test("the CLI approves and rejects over the API, as the token's name, with a comment", async () => {
    const env = { PILOTAGE_SERVER: h.server.url, PILOTAGE_TOKEN: await h.token('run') };
    const first = await startWaiting(h, 'gated');
    const approved = await runCli(['approve', first.runId, 'sign-off', '--comment', 'lgtm'], { env, fromSource: true });
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.stdout.trim(), `sign-off of run ${first.runId}: approved by test-run: lgtm`);
    assert.equal((await h.server.runtime.engine.waitForRun(first.runId)).state, 'succeeded');
    const again = await runCli(['approve', first.runId, 'sign-off'], { env, fromSource: true });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no approval stage sign-off waiting/);

    const second = await startWaiting(h, 'gated');
    const rejected = await runCli(['reject', second.runId, 'sign-off', '--comment', 'too risky', '--json'], {
      env,
      fromSource: true,
    });
    assert.equal(rejected.code, 0, rejected.stderr);
    const body = JSON.parse(rejected.stdout);
    assert.equal(body.decision, 'rejected');
    assert.equal(body.by, 'test-run');
    assert.equal(body.comment, 'too risky');
    const ended = await h.server.runtime.engine.waitForRun(second.runId);
    assert.equal(ended.reason, 'approval sign-off rejected by test-run: too risky');
  });

  test('the timeout is honoured: an undecided stage fails the run', async () => {
    await apply(h, gated('hasty', '1s'));
    const { runId } = await startWaiting(h, 'hasty');
    const ended = await h.server.runtime.engine.waitForRun(runId);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.reason, 'approval sign-off timed out');
    const gate = (await h.server.runtime.store.taskRuns.listByRun(runId)).find((t) => t.stage === 'sign-off');
    assert.equal(gate?.reason, 'approval timed out');
  });
});

describe('approval gates across a server restart', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-approvals-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('a stage waiting when the server stops is still waiting, and decidable, after it starts again', async () => {
    const first = await createApiHarness({ dir });
    let runId: string;
    let waiting: Waiting;
    try {
      await apply(first, gated('gated', '1h'));
      ({ runId, waiting } = await startWaiting(first, 'gated'));
    } finally {
      await first.close();
    }
    const second = await createApiHarness({ dir });
    try {
      const listed = ((await second.call('GET', '/v1/approvals')).body as Waiting[]).find((w) => w.runId === runId);
      assert.ok(listed, 'still waiting after the restart');
      assert.equal(listed.taskRunId, waiting.taskRunId, 'the same task run, not a new one');
      assert.equal(listed.since, waiting.since, 'the timeout still counts from the first wait');
      const answer = await second.call('POST', `/v1/runs/${runId}/stages/sign-off/approve`, {
        body: { comment: 'after restart' },
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const ended = await second.server.runtime.engine.waitForRun(runId);
      assert.equal(ended.state, 'succeeded', ended.reason ?? '');
      const gates = (await second.server.runtime.store.taskRuns.listByRun(runId)).filter((t) => t.stage === 'sign-off');
      assert.equal(gates.length, 1, 'one approval task run');
      assert.equal(gates[0]?.message, 'approved by test-admin: after restart');
    } finally {
      await second.close();
    }
  });
});
