import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIncomingCdevent, receiveCdevent, type IncomingRequest } from '../src/events/incoming.js';
import { registerCustomSchema } from '../src/events/validate.js';
import {
  clone,
  cloudEventRequest,
  coreExamples,
  customExample,
  MODES,
  sharedMissing,
  type Doc,
  type Example,
} from './events-fixtures.js';
import { memoryInbox } from './events-support.js';

describe('incoming CDEvents over HTTP', { skip: sharedMissing }, () => {
  const examples: Example[] = sharedMissing ? [] : [...coreExamples(), customExample()];

  for (const mode of MODES) {
    test(`all conformance examples are accepted in ${mode} mode, unchanged`, () => {
      assert.equal(examples.length, 46);
      // the custom example names its own schema, which must be known locally (see below)
      registerCustomSchema(customExample().doc.context.schemaUri, { type: 'object' });
      for (const { file, doc } of examples) {
        const result = parseIncomingCdevent(cloudEventRequest(doc, mode));
        assert.equal(result.ok, true, `${file}: ${JSON.stringify(result)}`);
        if (result.ok) {
          assert.deepEqual(result.event, doc, file);
          assert.equal(result.mode, mode);
        }
      }
    });

    test(`mutated examples are rejected with 400 and the path (${mode})`, () => {
      for (const { file, doc } of examples) {
        const cases: [string, (e: Doc) => void][] = [
          ['/subject/id', (e) => delete e.subject.id],
          ['/context/timestamp', (e) => (e.context.timestamp = 1679322425)],
          ['/context/unknownKey', (e) => (e.context.unknownKey = 'x')],
        ];
        for (const [path, mutate] of cases) {
          const e = clone(doc);
          mutate(e);
          const result = parseIncomingCdevent(cloudEventRequest(e, mode));
          assert.equal(result.ok, false, `${file} ${path}`);
          if (!result.ok) {
            assert.equal(result.status, 400);
            assert.ok(
              result.errors.some((x) => x.path === path),
              `${file}: ${path} in ${JSON.stringify(result.errors)}`,
            );
          }
        }
      }
    });
  }

  test('bodies as raw bytes, parsed objects and with other charsets are read', () => {
    const { doc } = examples.find((x) => x.file === 'artifact_published.json')!;
    const binary = cloudEventRequest(doc, 'binary');
    const asBuffer = parseIncomingCdevent({ headers: binary.headers, body: Buffer.from(String(binary.body)) });
    assert.equal(asBuffer.ok, true, JSON.stringify(asBuffer));
    const asObject = parseIncomingCdevent({
      headers: { ...binary.headers, 'content-type': 'application/json; charset=UTF-8' },
      body: doc,
    });
    assert.equal(asObject.ok, true, JSON.stringify(asObject));
    const structured = cloudEventRequest(doc, 'structured');
    const upper = parseIncomingCdevent({
      headers: { 'Content-Type': 'application/cloudevents+json; charset=UTF-8' },
      body: JSON.parse(String(structured.body)) as unknown,
    });
    assert.equal(upper.ok, true, JSON.stringify(upper));
  });

  test('the CloudEvent attributes must agree with the CDEvent context', () => {
    const { doc } = examples.find((x) => x.file === 'build_started.json')!;
    for (const key of ['id', 'type', 'source'] as const) {
      const other = key === 'type' ? 'dev.cdevents.build.queued.0.3.0' : `/other-${key}`;
      const result = parseIncomingCdevent(cloudEventRequest(doc, 'binary', { [key]: other }));
      assert.equal(result.ok, false, key);
      if (!result.ok)
        assert.deepEqual(
          result.errors.map((e) => e.path),
          [`/context/${key}`],
        );
    }
  });

  test('requests that are not one CloudEvent carrying a CDEvent get 400', () => {
    const cases: IncomingRequest[] = [
      { headers: { 'content-type': 'application/json' }, body: '{"context":{}}' }, // no ce-* headers
      { headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]' },
      { headers: { 'content-type': 'application/cloudevents+json' }, body: '{not json' },
      {
        headers: {
          'ce-id': '1',
          'ce-source': '/s',
          'ce-type': 't',
          'ce-specversion': '1.0',
          'content-type': 'application/json',
        },
        body: '',
      },
      {
        headers: {
          'ce-id': '1',
          'ce-source': '/s',
          'ce-type': 't',
          'ce-specversion': '1.0',
          'content-type': 'text/plain',
        },
        body: 'hello',
      },
      {
        headers: {
          'ce-id': '1',
          'ce-source': '/s',
          'ce-type': 't',
          'ce-specversion': '1.0',
          'content-type': 'application/json',
        },
        body: '[1,2]',
      },
    ];
    for (const request of cases) {
      const result = parseIncomingCdevent(request);
      assert.equal(result.ok, false, JSON.stringify(request));
      if (!result.ok) {
        assert.equal(result.status, 400);
        assert.ok(result.errors.length > 0 && result.errors[0]!.message.length > 0);
      }
    }
  });

  test('schemaUri: unknown ones are ignored on core events, refused on custom events; known ones apply', () => {
    const core = clone(examples.find((x) => x.file === 'build_started.json')!.doc);
    core.context.schemaUri = 'https://unregistered.example/core';
    assert.equal(
      parseIncomingCdevent(cloudEventRequest(core, 'binary')).ok,
      true,
      'core: its own schema is the contract',
    );

    const custom = clone(customExample().doc);
    custom.context.schemaUri = 'https://unregistered.example/custom';
    const refused = parseIncomingCdevent(cloudEventRequest(custom, 'binary'));
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.deepEqual(
        refused.errors.map((e) => e.path),
        ['/context/schemaUri'],
      );
      assert.match(refused.errors[0]!.message, /never fetched/);
    }
    delete custom.context.schemaUri;
    assert.equal(parseIncomingCdevent(cloudEventRequest(custom, 'structured')).ok, true, 'custom without schemaUri');

    custom.context.schemaUri = 'https://registered.example/custom';
    registerCustomSchema(custom.context.schemaUri, {
      type: 'object',
      properties: { subject: { properties: { content: { required: ['user', 'ticket'] } } } },
    });
    const strict = parseIncomingCdevent(cloudEventRequest(custom, 'binary'));
    assert.equal(strict.ok, false);
    if (!strict.ok)
      assert.ok(
        strict.errors.some((e) => e.path === '/subject/content/ticket'),
        JSON.stringify(strict),
      );
    custom.subject.content.ticket = 'T-1';
    assert.equal(parseIncomingCdevent(cloudEventRequest(custom, 'binary')).ok, true, 'satisfies the registered schema');
  });

  test('receiveCdevent deduplicates by (source, id)', async () => {
    const inbox = memoryInbox();
    const { doc } = examples.find((x) => x.file === 'change_merged.json')!;
    const first = await receiveCdevent(cloudEventRequest(doc, 'binary'), inbox, 1);
    assert.deepEqual(first.ok && first.duplicate, false);
    const again = await receiveCdevent(cloudEventRequest(doc, 'structured'), inbox, 2);
    assert.deepEqual(again.ok && again.duplicate, true, 'same event in another mode is still a duplicate');
    const otherSource = clone(doc);
    otherSource.context.source = '/another/source';
    const third = await receiveCdevent(cloudEventRequest(otherSource, 'binary'), inbox, 3);
    assert.deepEqual(third.ok && third.duplicate, false, 'same id from another source is new');
    assert.equal(inbox.size(), 2);
    const invalid = clone(doc);
    delete invalid.subject;
    const bad = await receiveCdevent(cloudEventRequest(invalid, 'binary'), inbox, 4);
    assert.equal(bad.ok, false);
    assert.equal(inbox.size(), 2, 'invalid events are not recorded');
  });
});
