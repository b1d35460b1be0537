import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CDEVENTS_SCHEMA_DIR,
  createCdeventValidator,
  knownCdeventTypes,
  validateCdevent,
} from '../src/events/validate.js';
import type { CdeventValidation } from '../src/events/types.js';
import { clone, coreExamples, customExample, sharedMissing, type Doc } from './events-fixtures.js';

/** `examples/pipelinerun_finished.json` → `schemas/pipelinerunfinished.json` (upstream's rule). */
function schemaOf(file: string): Doc {
  return JSON.parse(readFileSync(join(CDEVENTS_SCHEMA_DIR, file.replace('_', '')), 'utf8')) as Doc;
}

function assertRejectedAt(result: CdeventValidation, path: string, what: string): void {
  assert.equal(result.ok, false, `${what}: must be rejected`);
  if (result.ok) return;
  assert.ok(
    result.errors.some((e) => e.path === path),
    `${what}: expected an error at ${path}, got ${JSON.stringify(result.errors)}`,
  );
}

describe('CDEvents validation against the official schemas', { skip: sharedMissing }, () => {
  const examples = sharedMissing ? [] : coreExamples();

  test('there are 45 core types and 45 conformance examples', () => {
    assert.equal(knownCdeventTypes().length, 45);
    assert.equal(examples.length, 45);
  });

  for (const { file, doc } of examples) {
    describe(file, () => {
      const schema = schemaOf(file);
      const content = schema.properties.subject.properties.content;

      test('the conformance example is valid', () => {
        assert.deepEqual(validateCdevent(doc), { ok: true, type: doc.context.type });
      });

      test('missing required fields are rejected with their path', () => {
        for (const key of ['specversion', 'id', 'source', 'type', 'timestamp']) {
          const e = clone(doc);
          delete e.context[key];
          assertRejectedAt(
            validateCdevent(e),
            key === 'type' ? '/context/type' : `/context/${key}`,
            `no context.${key}`,
          );
        }
        for (const key of ['id', 'content']) {
          const e = clone(doc);
          delete e.subject[key];
          assertRejectedAt(validateCdevent(e), `/subject/${key}`, `no subject.${key}`);
        }
        for (const key of (content.required ?? []) as string[]) {
          const e = clone(doc);
          delete e.subject.content[key];
          assertRejectedAt(validateCdevent(e), `/subject/content/${key}`, `no content.${key}`);
        }
      });

      test('wrong types are rejected with their path', () => {
        const cases: [string, (e: Doc) => void][] = [
          ['/context/id', (e) => (e.context.id = 42)],
          ['/context/timestamp', (e) => (e.context.timestamp = '2023-03-20 14:27')],
          ['/context/source', (e) => (e.context.source = 12)],
          ['/subject/id', (e) => (e.subject.id = '')],
          ['/subject/content', (e) => (e.subject.content = 'text')],
          ['/context/type', (e) => (e.context.type = 7)],
        ];
        for (const [path, mutate] of cases) {
          const e = clone(doc);
          mutate(e);
          assertRejectedAt(validateCdevent(e), path, `mutation at ${path}`);
        }
        // Not every schema constrains the format (the testing events' context.source has none).
        if (schema.properties.context.properties.source.format === 'uri-reference') {
          const e = clone(doc);
          e.context.source = 'http://a b';
          assertRejectedAt(validateCdevent(e), '/context/source', 'source not a URI reference');
        }
        const stringKey = Object.entries(content.properties as Record<string, Doc>).find(
          ([key, s]) => s.type === 'string' && key in doc.subject.content,
        );
        if (stringKey !== undefined) {
          const e = clone(doc);
          e.subject.content[stringKey[0]] = { not: 'a string' };
          assertRejectedAt(validateCdevent(e), `/subject/content/${stringKey[0]}`, `content.${stringKey[0]} as object`);
        }
      });

      test('unknown keys are rejected where additionalProperties is false', () => {
        for (const [path, mutate] of [
          ['/context/time', (e: Doc) => (e.context.time = e.context.timestamp)],
          ['/subject/type', (e: Doc) => (e.subject.type = 'pipelineRun')],
          ['/extra', (e: Doc) => (e.extra = true)],
        ] as const) {
          const e = clone(doc);
          mutate(e);
          assertRejectedAt(validateCdevent(e), path, `unknown key ${path}`);
        }
        assert.equal(content.additionalProperties, false, 'every core content is closed');
        const e = clone(doc);
        e.subject.content.pilotageRunNumber = 3;
        assertRejectedAt(validateCdevent(e), '/subject/content/pilotageRunNumber', 'unknown content key');
      });
    });
  }

  test('the custom-event example validates against the custom schema', () => {
    const { doc } = customExample();
    assert.deepEqual(validateCdevent(doc), { ok: true, type: doc.context.type });
    const bad = clone(doc);
    bad.context.type = 'dev.cdeventsx.no-dash-subject'; // violates the custom type pattern
    assertRejectedAt(validateCdevent(bad), '/context/type', 'bad custom type');
    const extra = clone(doc);
    extra.subject.extra = 1;
    assertRejectedAt(validateCdevent(extra), '/subject/extra', 'custom subject is closed');
  });

  test('a locally registered schemaUri schema is applied as well; unregistered URIs are ignored', () => {
    const v = createCdeventValidator();
    const { doc } = customExample(); // schemaUri https://myorg.com/schema/mytool
    assert.equal(v.validate(doc).ok, true, 'unregistered: only the custom schema applies');
    v.registerCustomSchema('https://myorg.com/schema/mytool', {
      type: 'object',
      properties: {
        subject: {
          type: 'object',
          properties: {
            content: { type: 'object', required: ['user', 'owner'], properties: { user: { type: 'string' } } },
          },
        },
      },
    });
    const result = v.validate(doc);
    assertRejectedAt(result, '/subject/content/owner', 'registered schema requires owner');
    assert.match(!result.ok ? (result.errors[0]?.message ?? '') : '', /schema https:\/\/myorg\.com\/schema\/mytool/);
    const fixed = clone(doc);
    fixed.subject.content.owner = 'team-a';
    assert.equal(v.validate(fixed).ok, true);
    // Registering again replaces the schema.
    v.registerCustomSchema('https://myorg.com/schema/mytool', { type: 'object' });
    assert.equal(v.validate(doc).ok, true);
    // Also applied to core events naming it.
    const core = clone(examples.find((x) => x.file === 'artifact_published.json')!.doc);
    core.context.schemaUri = 'https://example.com/strict';
    v.registerCustomSchema('https://example.com/strict', {
      properties: { customData: { required: ['team'] } },
      required: ['customData'],
    });
    assertRejectedAt(v.validate(core), '/customData', 'core event with registered schemaUri');
    assert.throws(
      () => v.registerCustomSchema('https://example.com/broken', { type: 'no-such-type' }),
      /does not compile/,
    );
  });

  test('unknown types and other versions name the type', () => {
    const doc = clone(examples.find((x) => x.file === 'pipelinerun_finished.json')!.doc);
    doc.context.type = 'dev.cdevents.pipelinerun.finished.0.2.0';
    const old = validateCdevent(doc);
    assertRejectedAt(old, '/context/type', 'old version');
    assert.match(JSON.stringify(old), /pipelinerun\.finished\.0\.2\.0.*validates.*pipelinerun\.finished\.0\.3\.0/);
    doc.context.type = 'dev.cdevents.approval.created.0.1.0';
    const unknown = validateCdevent(doc);
    assertRejectedAt(unknown, '/context/type', 'unknown type');
    assert.match(JSON.stringify(unknown), /unknown CDEvent type \\"dev\.cdevents\.approval\.created\.0\.1\.0\\"/);
    doc.context.type = 'com.example.something';
    assertRejectedAt(validateCdevent(doc), '/context/type', 'not a CDEvent type');
  });

  test('non-objects and missing context are rejected', () => {
    assertRejectedAt(validateCdevent(null), '', 'null');
    assertRejectedAt(validateCdevent([]), '', 'array');
    assertRejectedAt(validateCdevent({ subject: {} }), '/context', 'no context');
    assertRejectedAt(validateCdevent({ context: { id: 'x' }, subject: {} }), '/context/type', 'no type');
  });

  test('GUIDE probes: url for uri, relative uri, CloudEvents keys, bad outcome, zoneless time', () => {
    const base = examples.find((x) => x.file === 'pipelinerun_finished.json')!.doc;
    const probes: [string, (e: Doc) => void][] = [
      [
        '/subject/content/url',
        (e) => {
          e.subject.content.url = e.subject.content.uri;
          delete e.subject.content.uri;
        },
      ],
      ['/subject/content/uri', (e) => (e.subject.content.uri = '/runs/1')],
      ['/context/version', (e) => (e.context.version = '0.4.1')],
      ['/subject/content/outcome', (e) => (e.subject.content.outcome = 'SUCCESS')],
      ['/context/timestamp', (e) => (e.context.timestamp = '2023-03-20T14:27:05')],
    ];
    for (const [path, mutate] of probes) {
      const e = clone(base);
      mutate(e);
      assertRejectedAt(validateCdevent(e), path, `probe ${path}`);
    }
  });
});
