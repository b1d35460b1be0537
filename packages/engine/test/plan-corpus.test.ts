// The golden corpus of the plan compiler: every good file compiles to its committed plan, every
// bad file fails with its committed error text. `UPDATE_GOLDEN=1` rewrites the expected files
// that differ (review the diff before committing: they are the specification; then run
// `npx prettier --write` on the .plan.json files, which are compared as JSON, not as text).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { formatIssue } from '../src/domain/issue.js';
import { componentJsonSchema } from '../src/plan/component-schema.js';
import { createFileResolver, loadComponentFile, loadWorkflowFile, validateFiles } from '../src/plan-files/load.js';
import { parseComponent } from '../src/plan/parse-component.js';
import type { ResolvedComponent } from '../src/plan/types.js';
import { workflowJsonSchema } from '../src/plan/workflow-schema.js';

const root = fileURLToPath(new URL('./fixtures/plan/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

/** Absolute paths vary per checkout: expected files name fixtures relative to the corpus root. */
function stable(text: string): string {
  return text.replaceAll(root, '');
}

function filesIn(folder: string): string[] {
  return readdirSync(join(root, folder))
    .filter((name) => /\.(ya?ml|json)$/.test(name) && !name.endsWith('.plan.json'))
    .sort();
}

function stem(name: string): string {
  return basename(name, extname(name));
}

/** A registry of the components in fixtures/plan/registry: `name@1.2.0` exactly, or `name@^1`. */
function testRegistry(): (ref: string) => ResolvedComponent | undefined {
  const components = filesIn('registry').map((name) => {
    const file = join(root, 'registry', name);
    return parseComponent(readFileSync(file, 'utf8'), file);
  });
  return (ref) => {
    const [name, range = ''] = ref.split('@');
    const candidates = components.filter((c) => c.name === name);
    if (range.startsWith('^')) return candidates.find((c) => c.version.split('.')[0] === range.slice(1));
    return candidates.find((c) => c.version === range);
  };
}

function kindOf(file: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  return /^kind:\s*(\S+)/m.exec(text)?.[1] ?? /"kind":\s*"(\w+)"/.exec(text)?.[1];
}

function checkGolden(expectedFile: string, actual: string): void {
  if (update) {
    if (!existsSync(expectedFile) || readFileSync(expectedFile, 'utf8') !== actual) writeFileSync(expectedFile, actual);
    return;
  }
  assert.ok(existsSync(expectedFile), `missing ${stable(expectedFile)} (run with UPDATE_GOLDEN=1, then review it)`);
  assert.equal(actual, readFileSync(expectedFile, 'utf8'));
}

function checkGoldenJson(expectedFile: string, actual: unknown): void {
  const expected = existsSync(expectedFile) ? (JSON.parse(readFileSync(expectedFile, 'utf8')) as unknown) : undefined;
  if (update) {
    if (!isDeepStrictEqual(expected, actual)) writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  assert.ok(expected !== undefined, `missing ${stable(expectedFile)} (run with UPDATE_GOLDEN=1, then review it)`);
  assert.deepStrictEqual(actual, expected);
}

describe('plan corpus: good files compile to their plans', () => {
  const resolver = createFileResolver(testRegistry());
  for (const name of filesIn('good')) {
    test(name, () => {
      const file = join(root, 'good', name);
      const compiled = kindOf(file) === 'Component' ? loadComponentFile(file) : loadWorkflowFile(file, resolver);
      assert.ok(Object.isFrozen(compiled), 'compiled plans are frozen');
      checkGoldenJson(join(root, 'good', `${stem(name)}.plan.json`), JSON.parse(stable(JSON.stringify(compiled))));
    });
  }
});

describe('plan corpus: bad files fail with their errors', () => {
  const bad = filesIn('bad');
  const resolver = createFileResolver(testRegistry());
  test('holds at least 35 malformed files, each with its expected error text', () => {
    assert.ok(bad.length >= 35, `only ${bad.length} bad files`);
    const expected = readdirSync(join(root, 'bad')).filter((n) => n.endsWith('.error.txt'));
    if (!update) assert.deepEqual(expected.map((n) => n.replace(/\.error\.txt$/, '')).sort(), bad.map(stem).sort());
  });
  for (const name of bad) {
    test(name, () => {
      const issues = validateFiles([join(root, 'bad', name)], resolver);
      assert.ok(issues.length > 0, 'a bad file must not validate');
      for (const issue of issues) {
        assert.ok(issue.line >= 1 && issue.column >= 1, `position of ${formatIssue(issue)}`);
      }
      checkGolden(join(root, 'bad', `${stem(name)}.error.txt`), `${stable(issues.map(formatIssue).join('\n'))}\n`);
    });
  }
});

describe('plan corpus: the published JSON Schemas agree with the compiler', () => {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  const validateWorkflow = ajv.compile(workflowJsonSchema as object);
  const validateComponent = ajv.compile(componentJsonSchema as object);
  const parse = (file: string): unknown => JSON.parse(JSON.stringify(loadYaml(file)));

  test('every good file is valid against its published schema', () => {
    for (const name of filesIn('good')) {
      const file = join(root, 'good', name);
      const validate = kindOf(file) === 'Component' ? validateComponent : validateWorkflow;
      assert.ok(validate(parse(file)), `${name}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  // files whose every problem is one a JSON Schema can express: editors must flag them too
  const structural = [
    'approval-stage',
    'bad-durations',
    'bad-env',
    'bad-executor',
    'bad-names',
    'bad-retries',
    'component-and-run',
    'component-bad-endpoint',
    'component-bad-resources',
    'component-bad-version',
    'component-no-image-or-command',
    'component-unknown-keys',
    'component-volumes',
    'missing-required',
    'unknown-keys',
    'wrong-api-version',
    'wrong-types',
  ];
  for (const name of structural) {
    test(`${name} is rejected by the published schema as well`, () => {
      const file = join(root, 'bad', `${name}.yaml`);
      const validate = kindOf(file) === 'Component' ? validateComponent : validateWorkflow;
      assert.equal(validate(parse(file)), false);
    });
  }
});

// the YAML library's plain reading, without Pilotage's checks: what an editor would validate
function loadYaml(file: string): unknown {
  return parseYaml(readFileSync(file, 'utf8'), { uniqueKeys: false });
}
