import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDefaults, compileSchema, schemaProblems } from './schema.js';

const repoSchema = {
  type: 'object',
  required: ['repo'],
  additionalProperties: false,
  properties: {
    repo: { type: 'string', format: 'uri' },
    ref: { type: 'string', default: 'main' },
    depth: { type: 'integer', minimum: 1, default: 1 },
    mode: { enum: ['fast', 'full'] },
  },
};

describe('compileSchema', () => {
  test('valid values give undefined', () => {
    assert.equal(compileSchema(repoSchema)({ repo: 'https://example.com/x.git', depth: 3 }), undefined);
  });

  test('every problem is listed as "pointer: message"', () => {
    const problems = compileSchema(repoSchema)({ depth: 0, ref: 3, extra: true, mode: 'slow' });
    assert.equal(
      problems,
      '/: must have required property \'repo\'; /: must NOT have additional properties ("extra"); ' +
        '/ref: must be string; /depth: must be >= 1; /mode: must be one of "fast", "full"',
    );
  });

  test('formats are checked (ajv-formats)', () => {
    assert.equal(compileSchema(repoSchema)({ repo: 'not a uri' }), '/repo: must match format "uri"');
  });

  test('boolean schemas and equal schemas given as new objects work, $id included', () => {
    assert.equal(compileSchema(true)('anything'), undefined);
    assert.equal(compileSchema(false)(1), '/: boolean schema is false');
    const withId = () => ({ $id: 'https://example.com/s.json', type: 'string' });
    assert.equal(compileSchema(withId())('x'), undefined);
    assert.equal(compileSchema(withId())(1), '/: must be string');
  });
});

describe('applyDefaults', () => {
  test('fills missing keys and leaves the input untouched', () => {
    const value = { repo: 'https://example.com/x.git', ref: 'dev' };
    assert.deepEqual(applyDefaults(repoSchema, value), { repo: 'https://example.com/x.git', ref: 'dev', depth: 1 });
    assert.deepEqual(value, { repo: 'https://example.com/x.git', ref: 'dev' });
  });

  test('applies nested defaults and does not require validity', () => {
    const schema = {
      type: 'object',
      properties: { opts: { type: 'object', default: {}, properties: { level: { type: 'string', default: 'info' } } } },
    };
    assert.deepEqual(applyDefaults(schema, { other: 1 }), { other: 1, opts: { level: 'info' } });
    assert.deepEqual(applyDefaults(repoSchema, { extra: true }), { extra: true, ref: 'main', depth: 1 });
  });
});

describe('schemaProblems', () => {
  test('a valid schema has none', () => {
    assert.deepEqual(schemaProblems(repoSchema), []);
    assert.deepEqual(schemaProblems(true), []);
  });

  test('meta-schema errors point inside the schema', () => {
    assert.deepEqual(schemaProblems({ type: 'object', properties: { a: { type: 'strin' } } }), [
      {
        path: ['properties', 'a', 'type'],
        message:
          'invalid JSON Schema: must be one of "array", "boolean", "integer", "null", "number", "object", "string"',
      },
    ]);
    assert.deepEqual(schemaProblems({ allOf: [{ minimum: 'x' }] }), [
      { path: ['allOf', 0, 'minimum'], message: 'invalid JSON Schema: must be number' },
    ]);
  });

  test('unknown keywords and formats are found where they are written', () => {
    assert.deepEqual(schemaProblems({ type: 'object', properties: { tpye: { tpye: 'string' } } }), [
      {
        path: ['properties', 'tpye', 'tpye'],
        message: 'invalid JSON Schema: unknown keyword "tpye" (did you mean "type"?)',
        onKey: true,
      },
    ]);
    assert.deepEqual(schemaProblems({ items: { format: 'emial' } }), [
      { path: ['items', 'format'], message: 'invalid JSON Schema: unknown format "emial"' },
    ]);
  });

  test('other drafts, broken references and bad defaults are reported', () => {
    assert.deepEqual(schemaProblems({ $schema: 'http://json-schema.org/draft-07/schema#' }), [
      {
        path: ['$schema'],
        message: 'only JSON Schema draft 2020-12 is supported (https://json-schema.org/draft/2020-12/schema)',
      },
    ]);
    assert.deepEqual(schemaProblems({ $ref: '#/$defs/nope' }), [
      { path: [], message: "invalid JSON Schema: can't resolve reference #/$defs/nope from id #" },
    ]);
    assert.deepEqual(schemaProblems({ properties: { n: { type: 'integer', default: 'two' } } }), [
      { path: ['properties', 'n', 'default'], message: 'default does not match its schema: /: must be integer' },
    ]);
  });
});
