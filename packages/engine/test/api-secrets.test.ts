import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli } from './support/cli.js';

const SECRET = 'sup3r-Secret-Value-8841';
const WORKFLOW_SECRET = 'workflow-Own-Value-1193';
const GLOBAL_SHADOWED = 'global-Shadowed-Value-5520';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

// The component leaks the secret every way it can: stdout, stderr, a TASK_STATUS message and
// output, a [COUT] line, a CDEvent of its own, the TASK_RESULT output and message; a second
// action prints it and fails.
const LEAKY = `apiVersion: pilotage.dev/v1
kind: Workflow
name: leaky
stages:
  - name: build
    actions:
      - name: echo
        env:
          TOKEN: "\${{ secrets.DEPLOY_KEY }}"
          OWN: "\${{ secrets.SHARED }}"
        run: |
          post() { wget -q -O /dev/null --post-data "$1" "$2"; }
          post '' "$CO_COMPONENT_START"
          post '' "$CO_TASK_START"
          echo "token is $TOKEN"
          echo "stderr says $TOKEN" >&2
          if [ "$(printf %s "$OWN" | sha256sum | cut -c1-64)" = "${sha256(WORKFLOW_SECRET)}" ]; then echo "workflow secret wins"; fi
          post "{\\"message\\":\\"status $TOKEN\\",\\"output\\":{\\"interim\\":\\"$TOKEN\\"}}" "$CO_TASK_STATUS"
          echo "[COUT] leaked=$TOKEN"
          post "{\\"type\\":\\"dev.cdevents.artifact.published.0.3.0\\",\\"subject\\":{\\"id\\":\\"pkg:generic/app@1\\",\\"content\\":{\\"user\\":\\"bot\\"}},\\"customData\\":{\\"token\\":\\"$TOKEN\\"}}" "$CO_CDEVENT"
          post "{\\"status\\":\\"success\\",\\"output\\":{\\"result\\":\\"$TOKEN\\"},\\"message\\":\\"done $TOKEN\\"}" "$CO_TASK_RESULT"
          post '' "$CO_COMPONENT_STOP"
      - name: refuse
        env: { TOKEN: "\${{ secrets.DEPLOY_KEY }}" }
        run: |
          echo "refusing with $TOKEN"
          exit 3
`;

describe('secrets over the API', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness();
  });
  after(async () => h.close());

  test('the first start created an encryption key file with mode 0600', async () => {
    const file = join(h.dir, 'encryption.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok((await readFile(file, 'utf8')).trim().length >= 32);
  });

  test('PUT creates (201) then replaces (200); GET lists names and scopes, never values', async () => {
    const created = await h.call('PUT', '/v1/secrets/LIST_ME', { body: { value: 'first-value-abc' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'LIST_ME');
    assert.equal(created.body.scope, 'global');
    assert.equal(created.body.workflow, null);
    assert.equal(created.body.updatedBy, 'test-admin');
    const replaced = await h.call('PUT', '/v1/secrets/LIST_ME', { body: { value: 'second-value-def' } });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.createdAt, created.body.createdAt);
    const own = await h.call('PUT', '/v1/secrets/LIST_ME', { body: { value: 'own-value-ghi', workflow: 'some-flow' } });
    assert.equal(own.status, 201);
    assert.equal(own.body.scope, 'workflow:some-flow');

    const all = await h.call('GET', '/v1/secrets');
    assert.equal(all.status, 200);
    const mine = all.body.filter((s: { name: string }) => s.name === 'LIST_ME');
    assert.deepEqual(
      mine.map((s: { scope: string }) => s.scope),
      ['global', 'workflow:some-flow'],
    );
    for (const value of ['first-value-abc', 'second-value-def', 'own-value-ghi']) {
      assert.ok(!all.raw.body.includes(value), 'a value in the list answer');
      assert.ok(
        !created.raw.body.includes(value) && !replaced.raw.body.includes(value) && !own.raw.body.includes(value),
      );
    }
    const scoped = await h.call('GET', '/v1/secrets?workflow=some-flow');
    assert.deepEqual(
      scoped.body.map((s: { name: string; scope: string }) => `${s.scope}/${s.name}`),
      ['workflow:some-flow/LIST_ME'],
    );
  });

  test('DELETE removes the global or the workflow secret (204), then 404', async () => {
    await h.call('PUT', '/v1/secrets/GONE', { body: { value: 'gone-value', workflow: 'flow-a' } });
    await h.call('PUT', '/v1/secrets/GONE', { body: { value: 'gone-value-global' } });
    assert.equal((await h.call('DELETE', '/v1/secrets/GONE?workflow=flow-a')).status, 204);
    const again = await h.call('DELETE', '/v1/secrets/GONE?workflow=flow-a');
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'NOT_FOUND');
    const left = (await h.call('GET', '/v1/secrets')).body.filter((s: { name: string }) => s.name === 'GONE');
    assert.deepEqual(
      left.map((s: { scope: string }) => s.scope),
      ['global'],
    );
    assert.equal((await h.call('DELETE', '/v1/secrets/GONE')).status, 204);
  });

  test('no token is 401, a run or read token is 403 on every secret route', async () => {
    const runner = await h.token('run');
    for (const [method, url, body] of [
      ['PUT', '/v1/secrets/X_NAME', { value: 'abc-value' }],
      ['GET', '/v1/secrets', undefined],
      ['DELETE', '/v1/secrets/X_NAME', undefined],
    ] as const) {
      const none = await h.call(method, url, { token: null, ...(body ? { body } : {}) });
      assert.equal(none.status, 401, `${method} ${url}`);
      assert.equal(none.body.code, 'UNAUTHORIZED');
      const low = await h.call(method, url, { token: runner, ...(body ? { body } : {}) });
      assert.equal(low.status, 403, `${method} ${url}`);
      assert.equal(low.body.code, 'FORBIDDEN');
    }
  });

  test('bad names, values and workflows are 400 naming the field, and echo no value', async () => {
    const name = await h.call('PUT', '/v1/secrets/1BAD-NAME', { body: { value: 'bad-name-value' } });
    assert.equal(name.status, 400);
    assert.equal(name.body.details[0].field, 'params.name');
    const short = await h.call('PUT', '/v1/secrets/SHORT', { body: { value: 'ab' } });
    assert.equal(short.status, 400);
    assert.equal(short.body.details[0].field, 'body.value');
    assert.ok(!short.raw.body.includes('"ab"'));
    const missing = await h.call('PUT', '/v1/secrets/MISSING', { body: {} });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.details[0].field, 'body.value');
    const extra = await h.call('PUT', '/v1/secrets/EXTRA', { body: { value: 'extra-value', scope: 'x' } });
    assert.equal(extra.status, 400);
    const workflow = await h.call('PUT', '/v1/secrets/WF', { body: { value: 'wf-value-123', workflow: 'Not_A_Name' } });
    assert.equal(workflow.status, 400);
    assert.equal(workflow.body.details[0].field, 'body.workflow');
    const list = await h.call('GET', '/v1/secrets?workflow=Not_A_Name');
    assert.equal(list.status, 400);
    assert.equal(list.body.details[0].field, 'query.workflow');
  });

  test('a run reads its secrets (the workflow wins over global); the value reaches no log, answer, event or the database', async () => {
    assert.equal((await h.call('PUT', '/v1/secrets/DEPLOY_KEY', { body: { value: SECRET } })).status, 201);
    assert.equal((await h.call('PUT', '/v1/secrets/SHARED', { body: { value: GLOBAL_SHADOWED } })).status, 201);
    const own = await h.call('PUT', '/v1/secrets/SHARED', { body: { value: WORKFLOW_SECRET, workflow: 'leaky' } });
    assert.equal(own.status, 201);
    const applied = await h.call('POST', '/v1/workflows', { body: { source: LEAKY } });
    assert.equal(applied.status, 201, JSON.stringify(applied.body));

    const started = await h.call('POST', '/v1/workflows/leaky/runs', { body: { data: {} } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const runId: string = started.body.id;
    const ended = await h.server.runtime.engine.waitForRun(runId);
    assert.equal(ended.state, 'failed', ended.reason ?? '');
    // a line the server itself logs with the value is masked too
    h.server.app.log.warn(`a careless log line with ${SECRET} and ${WORKFLOW_SECRET}`);

    const detail = await h.call('GET', `/v1/runs/${runId}`);
    assert.equal(detail.status, 200);
    const attempt = detail.body.actions.find((a: { name: string }) => a.name === 'echo').attempts[0];
    assert.equal(attempt.state, 'succeeded');
    assert.equal(attempt.output.result, '***');
    assert.equal(attempt.output.leaked, '***');
    assert.equal(attempt.message, 'done ***');
    assert.equal(attempt.statuses[0].message, 'status ***');
    assert.equal(attempt.statuses[0].output.interim, '***');
    const logs = await h.call('GET', `/v1/runs/${runId}/tasks/${attempt.id}/logs`);
    assert.equal(logs.status, 200);
    const lines: string[] = logs.body.lines.map((l: { line: string }) => l.line);
    assert.ok(lines.includes('token is ***'), lines.join('\n'));
    assert.ok(lines.includes('stderr says ***'), lines.join('\n'));
    assert.ok(lines.includes('workflow secret wins'), "secrets.SHARED is the workflow's own value");
    const list = await h.call('GET', `/v1/runs?workflow=leaky`);
    const events = await h.server.runtime.store.outbox.listByRun(runId);
    assert.ok(events.length > 0, 'the run wrote CDEvents');
    const artifact = events.find((e) => e.type.startsWith('dev.cdevents.artifact.published'));
    assert.ok(artifact, `the component's own CDEvent was accepted: ${events.map((e) => e.type).join(', ')}`);
    assert.deepEqual(artifact.payload.customData, { token: '***' });

    const everything = [h.logText(), detail.raw.body, logs.raw.body, list.raw.body, JSON.stringify(events)];
    for (const [index, text] of everything.entries()) {
      for (const value of [SECRET, WORKFLOW_SECRET, GLOBAL_SHADOWED]) {
        assert.ok(!text.includes(value), `secret value found in output #${index}`);
      }
    }
    assert.ok(h.logText().includes('a careless log line with *** and ***'), 'the server log masks values');
    assert.ok(detail.raw.body.includes('***') && logs.raw.body.includes('***'));
    assert.ok(JSON.stringify(events).includes('***'), 'CDEvents carry the masked output');

    // at rest: the database files hold only ciphertext
    for (const file of await readdir(h.dir)) {
      if (!file.startsWith('pilotage.db')) continue;
      const bytes = await readFile(join(h.dir, file));
      for (const value of [SECRET, WORKFLOW_SECRET, GLOBAL_SHADOWED]) {
        assert.equal(bytes.indexOf(value), -1, `${file} holds ${value} in plaintext`);
      }
    }
  });

  test('the CLI sets (from stdin or --value), lists and deletes secrets, never printing a value', async () => {
    const env = { PILOTAGE_SERVER: h.server.url, PILOTAGE_TOKEN: h.admin };
    const piped = await runCli(['secret', 'set', 'CLI_SECRET', '--workflow', 'cli-flow'], {
      env,
      fromSource: true,
      input: 'piped-value-123\n',
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout.trim(), 'secret CLI_SECRET set (workflow:cli-flow)');
    const flag = await runCli(['secret', 'set', 'CLI_SECRET', '--value', 'flag-value-456', '--json'], {
      env,
      fromSource: true,
    });
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal(JSON.parse(flag.stdout).scope, 'global');
    const list = await runCli(['secret', 'list'], { env, fromSource: true });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^global {2}CLI_SECRET {2}updated .* by test-admin$/m);
    assert.match(list.stdout, /^workflow:cli-flow {2}CLI_SECRET/m);
    for (const out of [piped, flag, list]) {
      assert.ok(
        !`${out.stdout}${out.stderr}`.includes('piped-value-123') &&
          !`${out.stdout}${out.stderr}`.includes('flag-value-456'),
      );
    }
    // the piped value, one trailing newline dropped, is what runs get
    const service = await h.call('GET', '/v1/secrets?workflow=cli-flow');
    assert.equal(service.body.length, 1);
    const empty = await runCli(['secret', 'set', 'EMPTY'], { env, fromSource: true, input: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no value/);
    const low = await runCli(['secret', 'list'], {
      env: { ...env, PILOTAGE_TOKEN: await h.token('read') },
      fromSource: true,
    });
    assert.equal(low.code, 1);
    assert.match(low.stderr, /needs admin/);
    const deleted = await runCli(['secret', 'delete', 'CLI_SECRET', '--workflow', 'cli-flow'], {
      env,
      fromSource: true,
    });
    assert.equal(deleted.code, 0, deleted.stderr);
    const missing = await runCli(['secret', 'delete', 'CLI_SECRET', '--workflow', 'cli-flow'], {
      env,
      fromSource: true,
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no secret CLI_SECRET of workflow cli-flow/);
  });
});
