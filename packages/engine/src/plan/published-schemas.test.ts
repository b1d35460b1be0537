import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import { componentJsonSchema } from './component-schema.js';
import { isKnownKeyword } from './schema-check.js';
import { workflowJsonSchema } from './workflow-schema.js';

const published = [
  { name: 'workflow', schema: workflowJsonSchema },
  { name: 'component', schema: componentJsonSchema },
];

// keywords of every schema object, skipping the names under `properties`/`definitions` maps
function keywords(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) keywords(item, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'enum' || key === 'const' || key === 'required') continue;
      out.add(key);
      if (key === 'properties' || key === 'definitions' || key === 'dependencies') {
        for (const child of Object.values(value as object)) keywords(child, out);
      } else keywords(value, out);
    }
  }
  return out;
}

describe('published JSON Schemas', () => {
  for (const { name, schema } of published) {
    const file = new URL(`../../schemas/${name}.schema.json`, import.meta.url);

    // compared as JSON: the committed file is formatted by prettier
    test(`schemas/${name}.schema.json is the committed copy of ${name}JsonSchema`, () => {
      const committed = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : undefined;
      if (process.env.UPDATE_GOLDEN === '1' && !isDeepStrictEqual(committed, schema)) {
        writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
        return;
      }
      assert.deepStrictEqual(committed, schema);
    });

    test(`${name}: a valid draft-07 schema that strict Ajv compiles`, () => {
      const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false });
      assert.equal(ajv.validateSchema(schema as object), true, ajv.errorsText(ajv.errors));
      assert.doesNotThrow(() => ajv.compile(schema as object));
    });

    test(`${name}: uses only keywords the compiler enforces or checks in code`, () => {
      const unknown = [...keywords(schema)].filter((keyword) => !isKnownKeyword(keyword));
      assert.deepEqual(unknown, []);
    });
  }
});
