import { describe, expect, test } from 'vitest';
import { schemaProblems } from '../common/schema-validator';
import { schemaRows } from '../components/schema-table';
import { literalPart } from './action-inspector';

const inputs = {
  type: 'object',
  required: ['version', 'target'],
  properties: {
    version: { type: 'string' },
    target: { type: 'string', enum: ['staging', 'production'] },
    replicas: { type: 'integer', default: 1, minimum: 1 },
    labels: { type: 'object', properties: { team: { type: 'string', description: 'owner' } } },
  },
};

describe('form generation', () => {
  test('the form edits the literal inputs; mapped ones are left to the data map', () => {
    const { schema, data } = literalPart(inputs, {
      version: '${{ actions.build.outputs.version }}',
      target: 'staging',
      replicas: 3,
    });
    expect(Object.keys(schema.properties ?? {})).toEqual(['target', 'replicas', 'labels']);
    expect(schema.required).toEqual(['target']);
    expect(data).toEqual({ target: 'staging', replicas: 3 });
  });

  test('the validator the forms use names each bad field (and runs without eval)', () => {
    expect(schemaProblems(inputs, { version: '1', target: 'staging' })).toEqual([]);
    const problems = schemaProblems(inputs, { target: 'nowhere', replicas: 0 });
    const fields = problems.map((p) => p.property).sort();
    expect(fields).toEqual(['.replicas', '.target', '.version']);
    expect(problems.find((p) => p.property === '.version')?.message).toBe('is required');
  });

  test('schemas render as rows, nested fields flattened', () => {
    expect(schemaRows(inputs).map((r) => [r.path, r.type, r.required])).toEqual([
      ['version', 'string', true],
      ['target', '"staging" | "production"', true],
      ['replicas', 'integer', false],
      ['labels', 'object', false],
      ['labels.team', 'string', false],
    ]);
  });
});
