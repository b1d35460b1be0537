import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createWorkflowRunStarter } from '../src/service/workflow-run-starter.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const greetDir = join(root, 'components/greet-sh');
const yaml = { 'content-type': 'application/yaml' };

/** A workflow `name` whose one action (line 9) uses `component`. */
function workflowYaml(name: string, component: string, extra = ''): string {
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: ${name}
${extra}stages:
  - name: s
    actions:
      - name: a
        with: { name: Ada }
        component: ${component}
`;
}

describe('API: /v1/workflows', () => {
  let h: ApiHarness;
  let reader: string;
  let runner: string;
  let helloText: string;

  const put = (name: string, text: string, token?: string | null) =>
    h.call('PUT', `/v1/workflows/${name}`, {
      payload: text,
      headers: yaml,
      ...(token === undefined ? {} : { token }),
    });

  before(async () => {
    h = await createApiHarness();
    reader = await h.token('read');
    runner = await h.token('run');
    // greet-sh at several versions, all runnable from its folder by the local executor
    const source = await readFile(join(greetDir, 'component.yaml'), 'utf8');
    for (const version of ['1.0.0', '1.2.0', '1.10.0', '1.11.0', '2.0.0']) {
      const answer = await h.call('POST', '/v1/components', {
        body: { source: source.replace('version: 1.0.0', `version: ${version}`), dir: greetDir },
      });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
    }
    const deprecated = await h.call('POST', '/v1/components/greet-sh/1.11.0/deprecate', { body: { message: 'flaky' } });
    assert.equal(deprecated.status, 200);
    helloText = await readFile(join(root, 'examples/server/hello.yaml'), 'utf8');
  });
  after(async () => h.close());

  describe('apply', () => {
    test('PUT stores version 1 (201); greet-sh@^1 resolves to the highest non-deprecated 1.x', async () => {
      const answer = await put('hello', helloText);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.deepEqual(
        { ...answer.body, digest: typeof answer.body.digest },
        {
          name: 'hello',
          version: 1,
          digest: 'string',
          created: true,
          enabled: true,
          warnings: [],
        },
      );
      assert.match(answer.body.digest, /^[0-9a-f]{64}$/);
      const stored = await h.call('GET', '/v1/workflows/hello/versions/1', { token: reader });
      assert.equal(stored.status, 200);
      assert.equal(stored.body.source, helloText);
      assert.equal(stored.body.createdBy, 'test-admin');
      const component = stored.body.plan.stages[0].actions[0].component;
      assert.equal(component.name, 'greet-sh');
      assert.equal(component.version, '1.10.0', '1.11.0 is deprecated, 2.0.0 is out of range');
      assert.equal(component.dir, undefined, "a read token does not see the component's folder on the server");
      const asAdmin = await h.call('GET', '/v1/workflows/hello/versions/1');
      assert.equal(asAdmin.body.plan.stages[0].actions[0].component.dir, greetDir);
      assert.equal(stored.body.plan.file, undefined, 'a server plan names no file');
    });

    test('the same text again stores nothing (200, created false); a new text is version 2 (201)', async () => {
      const again = await put('hello', helloText);
      assert.equal(again.status, 200);
      assert.equal(again.body.created, false);
      assert.equal(again.body.version, 1);
      const changed = await put('hello', helloText.replace('default: world', 'default: everyone'));
      assert.equal(changed.status, 201);
      assert.equal(changed.body.version, 2);
    });

    test('an exact deprecated version is accepted with a warning', async () => {
      const answer = await put('pinned', workflowYaml('pinned', 'greet-sh@1.11.0'));
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.warnings, ['component greet-sh@1.11.0 is deprecated: flaky']);
    });

    test('POST /v1/workflows takes the name from the file; JSON {source, file} names the file in issues', async () => {
      const answer = await h.call('POST', '/v1/workflows', {
        body: { source: workflowYaml('posted', 'greet-sh@~1.2'), file: 'flows/posted.yaml' },
      });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.name, 'posted');
      const plan = (await h.call('GET', '/v1/workflows/posted/versions/1')).body.plan;
      assert.equal(plan.stages[0].actions[0].component.version, '1.2.0');
      const bad = await h.call('POST', '/v1/workflows', {
        body: { source: workflowYaml('posted', 'greet-sh@^7'), file: 'flows/posted.yaml' },
      });
      assert.equal(bad.status, 422);
      assert.match(
        bad.body.message,
        /^flows\/posted\.yaml:9:20: stages\[0\]\.actions\[0\]\.component: no version of greet-sh matches \^7/,
      );
    });

    test('an unknown component is 422 PLAN_INVALID naming its line and field', async () => {
      const answer = await put('unknown', workflowYaml('unknown', 'nothing-here@^1'));
      assert.equal(answer.status, 422);
      assert.equal(answer.body.code, 'PLAN_INVALID');
      assert.deepEqual(answer.body.details, [
        {
          file: 'unknown.yaml',
          line: 9,
          column: 20,
          path: 'stages[0].actions[0].component',
          message: 'component nothing-here is not registered; register it first (pilotage component register FILE)',
        },
      ]);
      assert.equal((await h.call('GET', '/v1/workflows/unknown')).status, 404, 'nothing stored');
    });

    test('a component path is refused: the server reads no files a workflow names', async () => {
      const answer = await put('by-path', workflowYaml('by-path', '../../components/greet-sh/component.yaml'));
      assert.equal(answer.status, 422);
      assert.equal(answer.body.details[0].line, 9);
      assert.match(answer.body.details[0].message, /not from files/);
    });

    test('other compile errors (expressions, schema) are 422 with their lines', async () => {
      const text = workflowYaml('exprs', 'greet-sh@^1').replace(
        'with: { name: Ada }',
        "with: { name: '${{ inputs.nope + }}' }",
      );
      const answer = await put('exprs', text);
      assert.equal(answer.status, 422);
      assert.equal(answer.body.details[0].line, 8);
      assert.equal((await put('empty', '')).status, 422);
    });

    test('the name in the file must match the URL: 422 at the name line', async () => {
      const answer = await put('other-name', helloText);
      assert.equal(answer.status, 422);
      assert.equal(answer.body.details.length, 1);
      const [issue] = answer.body.details;
      assert.equal(issue.path, 'name');
      assert.equal(issue.line, helloText.split('\n').indexOf('name: hello') + 1);
      assert.match(issue.message, /names workflow "hello" but the URL names "other-name"/);
    });

    test('a malformed URL name is 400 naming params.name; a bad wrapper 400 naming the field', async () => {
      const answer = await put('Bad_Name', helloText);
      assert.equal(answer.status, 400);
      assert.equal(answer.body.details[0].field, 'params.name');
      const wrapper = await h.call('POST', '/v1/workflows', { body: { source: helloText, dir: '/tmp' } });
      assert.equal(wrapper.status, 400);
      assert.equal(wrapper.body.details[0].field, 'body.dir');
    });

    test('applying needs a token (401) with the admin scope (403)', async () => {
      assert.equal((await put('hello', helloText, null)).status, 401);
      assert.equal((await put('hello', helloText, reader)).status, 403);
      assert.equal((await put('hello', helloText, runner)).status, 403);
      const post = await h.call('POST', '/v1/workflows', { payload: helloText, headers: yaml, token: runner });
      assert.equal(post.status, 403);
    });
  });

  describe('reading', () => {
    before(async () => {
      const triggers = `triggers:
  - manual: {}
  - webhook: { provider: github, events: [push, pull_request] }
  - cron: { schedule: '0 3 1 1 *', timezone: Europe/Paris }
  - cdevent: { type: dev.cdevents.artifact.published }
`;
      assert.equal((await put('triggered', workflowYaml('triggered', 'greet-sh@1.0.0', triggers))).status, 201);
    });

    test('GET /v1/workflows lists each with flag, latest version, description and triggers', async () => {
      const answer = await h.call('GET', '/v1/workflows', { token: reader });
      assert.equal(answer.status, 200);
      const byName = new Map(answer.body.map((w: { name: string }) => [w.name, w]));
      const hello = byName.get('hello') as Record<string, unknown>;
      assert.equal(hello.enabled, true);
      assert.equal(hello.latestVersion, 2);
      assert.equal(hello.description, 'Greets someone with the registered greet-sh component');
      assert.deepEqual(hello.triggers, ['manual']);
      assert.deepEqual((byName.get('triggered') as { triggers: string[] }).triggers, [
        'manual',
        'webhook github push,pull_request',
        'cron 0 3 1 1 * (Europe/Paris)',
        'cdevent dev.cdevents.artifact.published',
      ]);
    });

    test('GET /v1/workflows/:name gives the latest and the versions, newest first', async () => {
      const answer = await h.call('GET', '/v1/workflows/hello', { token: reader });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.latestVersion, 2);
      assert.deepEqual(
        answer.body.versions.map((v: { version: number }) => v.version),
        [2, 1],
      );
      assert.match(answer.body.versions[0].digest, /^[0-9a-f]{64}$/);
      assert.equal(answer.body.versions[0].source, undefined, 'the list carries no sources');
    });

    test('GET …/diff gives a unified diff of two sources; defaults to the latest against the one before', async () => {
      const answer = await h.call('GET', '/v1/workflows/hello/diff?from=1&to=2', { token: reader });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.from, 1);
      assert.equal(answer.body.to, 2);
      const lines: string[] = answer.body.diff.split('\n');
      assert.equal(lines[0], '--- hello@1');
      assert.equal(lines[1], '+++ hello@2');
      assert.match(lines[2]!, /^@@ -\d+,\d+ \+\d+,\d+ @@$/);
      assert.deepEqual(
        lines.filter((l) => /^[-+] /.test(l)),
        ['-    name: { type: string, default: world }', '+    name: { type: string, default: everyone }'],
      );
      const byDefault = await h.call('GET', '/v1/workflows/hello/diff', { token: reader });
      assert.equal(byDefault.body.diff, answer.body.diff);
      const same = await h.call('GET', '/v1/workflows/hello/diff?from=2&to=2', { token: reader });
      assert.equal(same.body.diff, '--- hello@2\n+++ hello@2\n');
    });

    test('unknown workflows and versions are 404; bad numbers are 400 naming the field', async () => {
      for (const url of [
        '/v1/workflows/nothing',
        '/v1/workflows/nothing/versions/1',
        '/v1/workflows/hello/versions/9',
        '/v1/workflows/nothing/diff',
        '/v1/workflows/hello/diff?from=1&to=9',
        '/v1/workflows/pinned/diff',
      ]) {
        const answer = await h.call('GET', url, { token: reader });
        assert.equal(answer.status, 404, url);
        assert.equal(answer.body.code, 'NOT_FOUND');
      }
      const zero = await h.call('GET', '/v1/workflows/hello/versions/0', { token: reader });
      assert.equal(zero.status, 400);
      assert.equal(zero.body.details[0].field, 'params.version');
      const text = await h.call('GET', '/v1/workflows/hello/diff?from=one', { token: reader });
      assert.equal(text.status, 400);
      assert.equal(text.body.details[0].field, 'querystring.from');
    });

    test('reading needs a token (401); read scope is enough', async () => {
      for (const url of [
        '/v1/workflows',
        '/v1/workflows/hello',
        '/v1/workflows/hello/versions/1',
        '/v1/workflows/hello/diff?from=1&to=2',
      ]) {
        assert.equal((await h.call('GET', url, { token: null })).status, 401, url);
        assert.equal((await h.call('GET', url, { token: reader })).status, 200, url);
      }
    });
  });

  describe('enable, disable and runs', () => {
    const starter = () =>
      createWorkflowRunStarter({
        store: h.server.runtime.store,
        engine: h.server.runtime.engine,
        accepting: () => true,
      });

    test('a run of a stored workflow records its exact version and runs the resolved component', async () => {
      const run = await starter().start({
        workflow: 'hello',
        data: { name: 'Ada' },
        trigger: { kind: 'manual', by: 'test' },
      });
      assert.equal(run.workflowVersion, '2');
      const ended = await h.server.runtime.engine.waitForRun(run.id);
      assert.equal(ended.state, 'succeeded', ended.reason ?? '');
      const [taskRun] = await h.server.runtime.store.taskRuns.listByRun(run.id);
      assert.equal(taskRun?.component, 'greet-sh@1.10.0');
      assert.deepEqual(taskRun?.output, { greeting: 'Hello, Ada!' });
      const first = await starter().start({ workflow: 'hello', version: 1, data: {}, trigger: { kind: 'manual' } });
      assert.equal(first.workflowVersion, '1');
      assert.equal((await h.server.runtime.engine.waitForRun(first.id)).state, 'succeeded');
    });

    test('disable (admin) stops new runs; enable lets them start again', async () => {
      const disabled = await h.call('POST', '/v1/workflows/hello/disable');
      assert.equal(disabled.status, 200);
      assert.deepEqual(disabled.body, { name: 'hello', enabled: false });
      assert.equal((await h.call('GET', '/v1/workflows/hello')).body.enabled, false);
      await assert.rejects(starter().start({ workflow: 'hello', data: {}, trigger: { kind: 'manual' } }), {
        code: 'CONFLICT',
        message: /disabled/,
      });
      const again = await put('hello', helloText.replace('default: world', 'default: someone'));
      assert.equal(again.status, 201);
      assert.equal(again.body.enabled, false, 'applying keeps the flag');
      const enabled = await h.call('POST', '/v1/workflows/hello/enable');
      assert.deepEqual(enabled.body, { name: 'hello', enabled: true });
      const run = await starter().start({ workflow: 'hello', data: {}, trigger: { kind: 'manual' } });
      assert.equal((await h.server.runtime.engine.waitForRun(run.id)).state, 'succeeded');
    });

    test('enable and disable need admin (401, 403) and a known workflow (404)', async () => {
      for (const action of ['enable', 'disable']) {
        const url = `/v1/workflows/hello/${action}`;
        assert.equal((await h.call('POST', url, { token: null })).status, 401);
        assert.equal((await h.call('POST', url, { token: reader })).status, 403);
        assert.equal((await h.call('POST', url, { token: runner })).status, 403);
        assert.equal((await h.call('POST', `/v1/workflows/nothing/${action}`)).status, 404);
      }
      assert.equal((await h.call('GET', '/v1/workflows/hello')).body.enabled, true);
    });
  });

  test('the routes are in the OpenAPI document', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    assert.ok(doc.paths['/v1/workflows'].get && doc.paths['/v1/workflows'].post);
    assert.ok(doc.paths['/v1/workflows/{name}'].put && doc.paths['/v1/workflows/{name}'].get);
    for (const path of ['/v1/workflows/{name}/versions/{version}', '/v1/workflows/{name}/diff']) {
      assert.ok(doc.paths[path].get, path);
    }
    assert.ok(doc.paths['/v1/workflows/{name}/enable'].post && doc.paths['/v1/workflows/{name}/disable'].post);
  });
});
