import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyWorkflow } from './api-runs-support.js';
import {
  clone,
  cloudEventRequest,
  coreExamples,
  customExample,
  MODES,
  sharedMissing,
  type Doc,
  type Mode,
} from './events-fixtures.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

/** Headers and body of the request a CDEvents producer sends, as `ApiHarness.call` takes them. */
function message(doc: Doc, mode: Mode, ceId?: string): { headers: Record<string, string>; payload: string } {
  const { headers, body } = cloudEventRequest(doc, mode, ceId === undefined ? {} : { id: ceId });
  return { headers, payload: body };
}

function post(h: ApiHarness, doc: Doc, mode: Mode, token?: string | null) {
  return h.call('POST', '/v1/cdevents', { ...message(doc, mode), ...(token === undefined ? {} : { token }) });
}

/** A copy of `doc` with its own id, so that it is new to the inbox. */
function fresh(doc: Doc, tag: string): Doc {
  const copy = clone(doc);
  copy.context.id = `${copy.context.id}-${tag}`;
  return copy;
}

describe('POST /v1/cdevents: conformance', { skip: sharedMissing, concurrency: false }, () => {
  let h: ApiHarness;
  const examples = sharedMissing ? [] : coreExamples();
  before(async () => {
    h = await createApiHarness();
  });
  after(() => h?.close());

  test('the 45 core examples, unchanged: valid in both modes; repeated (source, id) pairs are duplicates', async () => {
    assert.equal(examples.length, 45);
    const pairs = new Set<string>();
    for (const mode of MODES) {
      for (const { file, doc } of examples) {
        const answer = await post(h, doc, mode);
        const pair = JSON.stringify([doc.context.source, doc.context.id]);
        const first = !pairs.has(pair);
        pairs.add(pair);
        assert.equal(answer.status, first ? 202 : 200, `${mode} ${file}: ${JSON.stringify(answer.body)}`);
        const { runs: _runs, skipped: _skipped, ...receipt } = answer.body;
        assert.deepEqual(receipt, {
          id: doc.context.id,
          source: doc.context.source,
          type: doc.context.type,
          duplicate: !first,
        });
        assert.deepEqual(answer.body.runs, [], 'no workflow triggers here');
      }
    }
    assert.equal(pairs.size, 3, 'the examples share three (source, id) pairs');
  });

  for (const mode of MODES) {
    test(`every core example with its own id is accepted as new in ${mode} mode (202)`, async () => {
      for (const { file, doc } of examples) {
        const answer = await post(h, fresh(doc, `${mode}-${file}`), mode);
        assert.equal(answer.status, 202, `${file}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.duplicate, false);
      }
    });

    test(`mutated examples get 400 with the error path in details (${mode})`, async () => {
      const cases: [string, string, (e: Doc) => void][] = [
        ['missing required field', '/subject/id', (e) => delete e.subject.id],
        ['wrong type', '/context/timestamp', (e) => (e.context.timestamp = 1679322425)],
        ['unknown key in context', '/context/unknownKey', (e) => (e.context.unknownKey = 'x')],
      ];
      for (const { file, doc } of examples) {
        for (const [what, path, mutate] of cases) {
          const bad = fresh(doc, `bad-${mode}-${file}`);
          mutate(bad);
          const answer = await post(h, bad, mode);
          assert.equal(answer.status, 400, `${file} ${what}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.code, 'VALIDATION');
          const detail = answer.body.details.find((d: { path: string }) => d.path === path);
          assert.ok(detail, `${file} ${what}: ${path} in ${JSON.stringify(answer.body.details)}`);
          const root = mode === 'binary' ? 'body' : 'body.data';
          assert.equal(detail.field, root + path.replaceAll('/', '.'));
          assert.ok(answer.body.message.includes(path), answer.body.message);
        }
      }
    });
  }

  test('an invalid event is not recorded: once fixed, the same id is new', async () => {
    const doc = fresh(examples.find((x) => x.file === 'service_deployed.json')!.doc, 'fix-me');
    const broken = clone(doc);
    delete broken.subject.content.environment;
    const refused = await post(h, broken, 'binary');
    assert.equal(refused.status, 400);
    assert.deepEqual(
      refused.body.details.map((d: { path: string }) => d.path),
      ['/subject/content/environment'],
    );
    assert.equal((await post(h, doc, 'binary')).status, 202);
  });

  test('the CloudEvent must agree with the CDEvent, hold one event, and be JSON', async () => {
    const doc = fresh(examples.find((x) => x.file === 'build_started.json')!.doc, 'envelope');
    const mismatch = await h.call('POST', '/v1/cdevents', message(doc, 'binary', 'another-id'));
    assert.equal(mismatch.status, 400);
    assert.deepEqual(
      mismatch.body.details.map((d: { path: string }) => d.path),
      ['/context/id'],
    );

    const batch = await h.call('POST', '/v1/cdevents', {
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify([JSON.parse(message(doc, 'structured').payload)]),
    });
    assert.equal(batch.status, 400);
    assert.match(batch.body.message, /one event per request/);

    const notJson = await h.call('POST', '/v1/cdevents', {
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: '{not json',
    });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.code, 'VALIDATION');

    const noHeaders = await h.call('POST', '/v1/cdevents', {
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(doc),
    });
    assert.equal(noHeaders.status, 400, 'binary mode needs the ce-* headers');

    const text = await h.call('POST', '/v1/cdevents', { headers: { 'content-type': 'text/plain' }, payload: 'hi' });
    assert.equal(text.status, 400);
    assert.match(text.body.message, /Content-Type: application\/cloudevents\+json/);
  });

  test('an older version of a core type is refused, naming the version this engine validates', async () => {
    const doc = fresh(examples.find((x) => x.file === 'artifact_published.json')!.doc, 'old');
    doc.context.type = 'dev.cdevents.artifact.published.0.2.0';
    const answer = await post(h, doc, 'binary');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.details[0].path, '/context/type');
    assert.match(answer.body.details[0].message, /dev\.cdevents\.artifact\.published\.0\.3\.0/);
  });

  test('custom events: an unknown schemaUri is refused at /context/schemaUri; without one, accepted', async () => {
    const doc = fresh(customExample().doc, 'custom');
    doc.context.schemaUri = 'https://unregistered.example/schema';
    const refused = await post(h, doc, 'structured');
    assert.equal(refused.status, 400);
    assert.deepEqual(
      refused.body.details.map((d: { path: string }) => d.path),
      ['/context/schemaUri'],
    );
    delete doc.context.schemaUri;
    assert.equal((await post(h, doc, 'structured')).status, 202);
  });

  test('401 without a token, 403 with a read token, accepted with a run token', async () => {
    const doc = fresh(examples.find((x) => x.file === 'change_merged.json')!.doc, 'auth');
    const anonymous = await post(h, doc, 'binary', null);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'UNAUTHORIZED');
    const reader = await post(h, doc, 'binary', await h.token('read'));
    assert.equal(reader.status, 403);
    assert.equal(reader.body.code, 'FORBIDDEN');
    const runner = await post(h, doc, 'binary', await h.token('run'));
    assert.equal(runner.status, 202, 'neither refusal recorded the event');
  });

  test('the route is in the OpenAPI document, with both media types', async () => {
    const doc = await h.call('GET', '/openapi.json', { token: null });
    const op = doc.body.paths['/v1/cdevents'].post;
    assert.deepEqual(Object.keys(op.requestBody.content).sort(), ['application/cloudevents+json', 'application/json']);
    assert.ok(op.responses['202'] && op.responses['400']);
  });
});

describe('POST /v1/cdevents: schemas registered in <dataDir>/cdevents-schemas', { skip: sharedMissing }, () => {
  let h: ApiHarness;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cdschemas-'));
    await mkdir(join(dir, 'cdevents-schemas'));
    await writeFile(
      join(dir, 'cdevents-schemas', 'mytool.json'),
      JSON.stringify({
        $id: 'https://myorg.com/schema/mytool',
        type: 'object',
        properties: {
          subject: {
            properties: { content: { required: ['user', 'description'], properties: { user: { type: 'string' } } } },
          },
        },
      }),
    );
    h = await createApiHarness({ dir });
  });
  after(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the custom conformance example names a registered schema: accepted in both modes', async () => {
    const { doc } = customExample();
    assert.equal(doc.context.schemaUri, 'https://myorg.com/schema/mytool');
    assert.equal((await post(h, doc, 'binary')).status, 202);
    const again = await post(h, fresh(doc, 's'), 'structured');
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.match(
      h.logText(),
      /CDEvents schemas registered from .*cdevents-schemas: https:\/\/myorg\.com\/schema\/mytool/,
    );
  });

  test('an event breaking the registered schema gets 400 with the path', async () => {
    const doc = fresh(customExample().doc, 'breaks');
    delete doc.subject.content.description;
    doc.subject.content.user = 7;
    const answer = await post(h, doc, 'binary');
    assert.equal(answer.status, 400);
    const paths = answer.body.details.map((d: { path: string }) => d.path).sort();
    assert.deepEqual(paths, ['/subject/content/description', '/subject/content/user']);
    assert.match(answer.body.details[0].message, /\(schema https:\/\/myorg\.com\/schema\/mytool\)/);
  });

  test('a dev.cdeventsx trigger (glob) starts its workflow with the custom event as data', async () => {
    const steps = 'stages:\n  - name: s\n    actions:\n      - name: a\n        run: "true"\n';
    await applyWorkflow(
      h,
      'on-mytool',
      `triggers:\n  - cdevent: { type: "dev.cdeventsx.mytool-resource.*" }\n${steps}`,
    );
    const doc = fresh(customExample().doc, 'trigger');
    const answer = await post(h, doc, 'structured');
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    assert.deepEqual(
      answer.body.runs.map((r: { workflow: string }) => r.workflow),
      ['on-mytool'],
    );
    const run = await h.server.runtime.engine.waitForRun(answer.body.runs[0].id);
    assert.equal(run.state, 'succeeded');
    assert.equal(run.chainId, doc.context.chainId);
    assert.equal((run.inputs as any).context.type, 'dev.cdeventsx.mytool-resource.created.0.1.0');
  });
});

describe('POST /v1/cdevents: triggers', { skip: sharedMissing, concurrency: false }, () => {
  let h: ApiHarness;
  const published = sharedMissing ? {} : coreExamples().find((x) => x.file === 'artifact_published.json')!.doc;
  before(async () => {
    h = await createApiHarness();
    const steps = 'stages:\n  - name: s\n    actions:\n      - name: a\n        run: "true"\n';
    await applyWorkflow(
      h,
      'on-publish',
      `triggers:\n  - cdevent:\n      type: dev.cdevents.artifact.published\n      filter: "\${{ event.subject.content.user == 'mybot-myapp' }}"\n${steps}`,
    );
    await applyWorkflow(
      h,
      'on-any-version',
      `triggers:\n  - cdevent: { type: dev.cdevents.artifact.published.0.3.0 }\n${steps}`,
    );
    await applyWorkflow(
      h,
      'other-user',
      `triggers:\n  - cdevent:\n      type: dev.cdevents.artifact.published\n      filter: "\${{ event.subject.content.user == 'someone-else' }}"\n${steps}`,
    );
    await applyWorkflow(
      h,
      'broken-filter',
      `triggers:\n  - cdevent:\n      type: dev.cdevents.artifact.published\n      filter: "\${{ event.subject.content.nothing.here == 1 }}"\n${steps}`,
    );
    await applyWorkflow(
      h,
      'closed-inputs',
      `inputs:\n  type: object\n  additionalProperties: false\n  properties: { repo: { type: string } }\ntriggers:\n  - cdevent: { type: dev.cdevents.artifact.published }\n${steps}`,
    );
    await applyWorkflow(h, 'disabled', `triggers:\n  - cdevent: { type: dev.cdevents.artifact.published }\n${steps}`);
    await applyWorkflow(h, 'on-builds', `triggers:\n  - cdevent: { type: dev.cdevents.build.finished }\n${steps}`);
    const disabled = await h.call('POST', '/v1/workflows/disabled/disable');
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
  });
  after(() => h?.close());

  test('matching workflows start with the event as data, a cdevent trigger and its chainId', async () => {
    const answer = await post(h, published, 'binary', await h.token('run'));
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.runs.map((r: { workflow: string }) => r.workflow).sort(), [
      'on-any-version',
      'on-publish',
    ]);
    const skipped = Object.fromEntries(
      answer.body.skipped.map((s: { workflow: string; reason: string }) => [s.workflow, s.reason]),
    );
    assert.deepEqual(Object.keys(skipped).sort(), ['broken-filter', 'closed-inputs']);
    assert.match(skipped['broken-filter'], /^filter .*workflow\.yaml|^filter /);
    assert.match(skipped['closed-inputs'], /inputs/);
    assert.match(h.logText(), /CDEvent trigger skipped/);

    for (const { id, number } of answer.body.runs) {
      assert.ok(Number.isInteger(number) && number >= 1);
      const run = await h.server.runtime.engine.waitForRun(id);
      assert.equal(run.state, 'succeeded', run.reason ?? '');
      assert.deepEqual(run.trigger, {
        kind: 'cdevent',
        by: published.context.id,
        details: { type: published.context.type, source: published.context.source },
      });
      assert.equal(run.chainId, published.context.chainId);
      assert.deepEqual(run.inputs, published);
      const [queued] = await h.server.runtime.store.outbox.listByRun(id);
      assert.equal(queued?.type, 'dev.cdevents.pipelinerun.queued.0.3.0');
      const context = queued?.payload.context as { chainId: string; links: unknown[] };
      assert.equal(context.chainId, published.context.chainId);
      assert.deepEqual(context.links, [
        { linkType: 'RELATION', linkKind: 'TRIGGER', target: { contextId: published.context.id } },
      ]);
    }
  });

  test('a duplicate starts nothing and answers 200 with the runs of the first delivery', async () => {
    const before = (await h.server.runtime.store.runs.list({ limit: 1000 })).length;
    const again = await post(h, published, 'structured');
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.deepEqual(again.body.runs.map((r: { workflow: string }) => r.workflow).sort(), [
      'on-any-version',
      'on-publish',
    ]);
    assert.equal((await h.server.runtime.store.runs.list({ limit: 1000 })).length, before);
  });

  test('an event without chainId: the run chain is the event id; other types match other workflows', async () => {
    const build = clone(coreExamples().find((x) => x.file === 'build_finished.json')!.doc);
    build.context.id = 'build-without-chain';
    delete build.context.chainId;
    const answer = await post(h, build, 'binary');
    assert.equal(answer.status, 202);
    assert.deepEqual(
      answer.body.runs.map((r: { workflow: string }) => r.workflow),
      ['on-builds'],
    );
    const run = await h.server.runtime.engine.waitForRun(answer.body.runs[0].id);
    assert.equal(run.chainId, 'build-without-chain');
  });

  test('a filter that does not match, and a type no trigger names, start nothing', async () => {
    const other = fresh(published, 'other-user');
    other.subject.content.user = 'nobody';
    const answer = await post(h, other, 'binary');
    assert.equal(answer.status, 202);
    assert.deepEqual(
      answer.body.runs.map((r: { workflow: string }) => r.workflow),
      ['on-any-version'],
      'only the workflow without a filter',
    );
    const ticket = fresh(coreExamples().find((x) => x.file === 'ticket_created.json')!.doc, 'nothing');
    const none = await post(h, ticket, 'binary');
    assert.equal(none.status, 202);
    assert.deepEqual(none.body.runs, []);
    assert.deepEqual(none.body.skipped, []);
  });
});
