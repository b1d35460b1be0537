import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** A component file of `name@version`, with a description. */
function componentYaml(name: string, version: string, description = `${name} at ${version}`): string {
  return `apiVersion: pilotage.dev/v1
kind: Component
name: ${name}
version: ${version}
description: ${description}
command: [./run.sh]
timeout: 1m
inputs: { type: object }
`;
}

const yaml = { 'content-type': 'application/yaml' };

describe('API: /v1/components', () => {
  let h: ApiHarness;
  let reader: string;
  let runner: string;
  before(async () => {
    h = await createApiHarness();
    reader = await h.token('read');
    runner = await h.token('run');
  });
  after(async () => h.close());

  const post = (text: string, headers: Record<string, string> = yaml, token?: string | null) =>
    h.call('POST', '/v1/components', { payload: text, headers, ...(token === undefined ? {} : { token }) });

  describe('POST /v1/components', () => {
    test('registers a component.yaml sent as YAML: 201 with spec, source and who registered it', async () => {
      const text = await readFile(join(root, 'components/greet-sh/component.yaml'), 'utf8');
      const answer = await post(text);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.name, 'greet-sh');
      assert.equal(answer.body.version, '1.0.0');
      assert.equal(answer.body.image, 'localhost/pilotage/greet-sh:1.0.0');
      assert.equal(answer.body.source, text);
      assert.equal(answer.body.spec.timeout, '1m');
      assert.deepEqual(answer.body.spec.outputs.required, ['greeting']);
      assert.equal(answer.body.createdBy, 'test-admin');
      assert.equal(answer.body.deprecated, false);
      assert.equal(answer.body.dir, null);
    });

    test('accepts text/yaml, a JSON component file (issues keep its lines) and JSON {source, file, dir}', async () => {
      assert.equal((await post(componentYaml('tx', '1.0.0'), { 'content-type': 'text/yaml' })).status, 201);
      const json = JSON.stringify(
        { apiVersion: 'pilotage.dev/v1', kind: 'Component', name: 'js', version: '1.0.0', command: ['true'] },
        null,
        2,
      );
      const asJson = await post(json, { 'content-type': 'application/json' });
      assert.equal(asJson.status, 201, JSON.stringify(asJson.body));
      assert.equal(asJson.body.source, json);
      const wrapped = await h.call('POST', '/v1/components', {
        body: {
          source: componentYaml('wrapped', '2.0.0'),
          file: 'components/wrapped/component.yaml',
          dir: '/srv/wrapped',
        },
      });
      assert.equal(wrapped.status, 201, JSON.stringify(wrapped.body));
      assert.equal(wrapped.body.dir, '/srv/wrapped');
      const badJson = await post(json.replace('"command"', '"commando"'), { 'content-type': 'application/json' });
      assert.equal(badJson.status, 422);
      const unknown = badJson.body.details.find((i: { path: string }) => i.path === 'commando');
      assert.equal(unknown?.line, 6, JSON.stringify(badJson.body));
    });

    test('an invalid file is 422 PLAN_INVALID with file, line and field of each issue', async () => {
      const text = componentYaml('broken', '1.0.0').replace('timeout: 1m', 'timeout: soon\nbogus: 1');
      const answer = await post(text);
      assert.equal(answer.status, 422);
      assert.equal(answer.body.code, 'PLAN_INVALID');
      assert.deepEqual(
        answer.body.details.map((i: { file: string; line: number; path: string }) => [i.file, i.line, i.path]),
        [
          ['component.yaml', 7, 'timeout'],
          ['component.yaml', 8, 'bogus'],
        ],
      );
      const named = await h.call('POST', '/v1/components', { body: { source: text, file: 'mine/component.yaml' } });
      assert.equal(named.body.details[0].file, 'mine/component.yaml');
      assert.match(named.body.message, /^mine\/component\.yaml:7:\d+: timeout: /);
      const version = await post(componentYaml('broken', '1.0'));
      assert.equal(version.status, 422);
      assert.equal(version.body.details[0].path, 'version');
      assert.equal(version.body.details[0].line, 4);
      assert.equal((await post('')).status, 422, 'an empty file');
      assert.equal((await post('kind: [')).status, 422, 'not YAML');
    });

    test('a wrapper with unknown keys or a relative dir is 400 naming the field', async () => {
      const answer = await h.call('POST', '/v1/components', {
        body: { source: componentYaml('w', '1.0.0'), dir: 'relative/dir', extra: 1 },
      });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.code, 'VALIDATION');
      assert.deepEqual(answer.body.details.map((d: { field: string }) => d.field).sort(), ['body.dir', 'body.extra']);
      const noBody = await h.call('POST', '/v1/components');
      assert.equal(noBody.status, 422, 'no body is an empty file');
      assert.match(noBody.body.message, /the file is empty/);
    });

    test('a version is immutable: the same name@version again is 409 CONFLICT', async () => {
      assert.equal((await post(componentYaml('immutable', '1.0.0', 'first'))).status, 201);
      const again = await post(componentYaml('immutable', '1.0.0', 'second'));
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'CONFLICT');
      assert.match(again.body.message, /immutable@1\.0\.0 is already registered/);
      const kept = await h.call('GET', '/v1/components/immutable/1.0.0');
      assert.equal(kept.body.description, 'first');
    });

    test('needs a token (401) with the admin scope (403 for read and run)', async () => {
      const text = componentYaml('auth', '1.0.0');
      assert.equal((await post(text, yaml, null)).status, 401);
      assert.equal((await post(text, yaml, reader)).status, 403);
      assert.equal((await post(text, yaml, runner)).status, 403);
      assert.equal((await h.call('GET', '/v1/components/auth')).status, 404, 'nothing was registered');
    });
  });

  describe('reading and deprecating', () => {
    before(async () => {
      for (const version of ['1.0.0', '1.9.0', '1.10.0', '2.0.0-rc.1']) {
        assert.equal((await post(componentYaml('lister', version, 'Lists Things'))).status, 201);
      }
      assert.equal((await post(componentYaml('other-one', '0.1.0', 'unrelated'))).status, 201);
    });

    test('GET /v1/components lists the newest version of each; q searches name and description', async () => {
      const all = await h.call('GET', '/v1/components', { token: reader });
      assert.equal(all.status, 200);
      const lister = all.body.find((c: { name: string }) => c.name === 'lister');
      assert.equal(lister.version, '2.0.0-rc.1');
      assert.equal(lister.source, undefined, 'lists carry no source');
      const found = await h.call('GET', '/v1/components?q=LISTS', { token: reader });
      assert.deepEqual(
        found.body.map((c: { name: string }) => c.name),
        ['lister'],
      );
      assert.deepEqual((await h.call('GET', '/v1/components?q=nothing-like-it', { token: reader })).body, []);
    });

    test('GET /v1/components/:name lists versions newest first by semver', async () => {
      const answer = await h.call('GET', '/v1/components/lister', { token: reader });
      assert.equal(answer.status, 200);
      assert.deepEqual(
        answer.body.versions.map((v: { version: string }) => v.version),
        ['2.0.0-rc.1', '1.10.0', '1.9.0', '1.0.0'],
      );
    });

    test('GET /v1/components/:name/:version gives spec and source', async () => {
      const answer = await h.call('GET', '/v1/components/lister/1.9.0', { token: reader });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.source, componentYaml('lister', '1.9.0', 'Lists Things'));
      assert.deepEqual(answer.body.spec.command, ['./run.sh']);
    });

    test('deprecate: 200 with the message; lists skip it unless deprecated=true; the version still shows', async () => {
      const answer = await h.call('POST', '/v1/components/other-one/0.1.0/deprecate', {
        body: { message: 'use lister instead' },
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.deprecated, true);
      assert.equal(answer.body.deprecationMessage, 'use lister instead');
      const names = async (url: string) =>
        (await h.call('GET', url, { token: reader })).body.map((c: { name: string }) => c.name);
      assert.ok(!(await names('/v1/components')).includes('other-one'));
      assert.ok((await names('/v1/components?deprecated=true')).includes('other-one'));
      assert.equal((await h.call('GET', '/v1/components/other-one/0.1.0')).body.deprecated, true);
      const noBody = await h.call('POST', '/v1/components/lister/1.0.0/deprecate');
      assert.equal(noBody.status, 200, JSON.stringify(noBody.body));
      assert.equal(noBody.body.deprecationMessage, null);
    });

    test('deprecate needs admin (401, 403) and takes only a message (400)', async () => {
      const url = '/v1/components/lister/1.9.0/deprecate';
      assert.equal((await h.call('POST', url, { token: null, body: {} })).status, 401);
      assert.equal((await h.call('POST', url, { token: reader, body: {} })).status, 403);
      assert.equal((await h.call('POST', url, { token: runner, body: {} })).status, 403);
      const bad = await h.call('POST', url, { body: { message: 3, why: 'x' } });
      assert.equal(bad.status, 400);
      const fields = bad.body.details.map((d: { field: string }) => d.field);
      assert.ok(fields.includes('body.message') || fields.includes('body'), JSON.stringify(bad.body));
      assert.equal((await h.call('GET', '/v1/components/lister/1.9.0')).body.deprecated, false);
    });

    test('unknown names and versions are 404; a malformed name is 400 naming params.name', async () => {
      for (const url of ['/v1/components/nothing', '/v1/components/lister/9.9.9', '/v1/components/nothing/1.0.0']) {
        const answer = await h.call('GET', url, { token: reader });
        assert.equal(answer.status, 404, url);
        assert.equal(answer.body.code, 'NOT_FOUND');
      }
      assert.equal((await h.call('POST', '/v1/components/lister/9.9.9/deprecate', { body: {} })).status, 404);
      const bad = await h.call('GET', '/v1/components/Not_A_Name', { token: reader });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.details[0].field, 'params.name');
    });

    test('reading needs a token (401) but read scope is enough', async () => {
      for (const url of ['/v1/components', '/v1/components/lister', '/v1/components/lister/1.0.0']) {
        assert.equal((await h.call('GET', url, { token: null })).status, 401, url);
        assert.equal((await h.call('GET', url, { token: reader })).status, 200, url);
      }
    });
  });

  test('the routes are in the OpenAPI document with their content types', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    for (const path of ['/v1/components', '/v1/components/{name}', '/v1/components/{name}/{version}']) {
      assert.ok(doc.paths[path], path);
    }
    assert.ok(doc.paths['/v1/components/{name}/{version}/deprecate'].post);
    assert.ok(doc.paths['/v1/components'].post.requestBody.content['application/yaml']);
  });
});
