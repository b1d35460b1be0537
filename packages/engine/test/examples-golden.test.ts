// Golden pairs for the README's examples: each examples/*/workflow.yaml compiles to the plan
// committed in fixtures/examples/<name>.plan.json (paths relative to the repository), and every
// example component validates. UPDATE_GOLDEN=1 rewrites the expected plans (review the diff).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadWorkflowFile, validateFiles } from '../src/plan-files/load.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const expectedDir = fileURLToPath(new URL('./fixtures/examples/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

describe('examples compile to their committed plans', () => {
  for (const name of readdirSync(join(repo, 'examples')).filter((n) =>
    existsSync(join(repo, 'examples', n, 'workflow.yaml')),
  )) {
    test(name, () => {
      const plan = loadWorkflowFile(join(repo, 'examples', name, 'workflow.yaml'));
      const actual = JSON.parse(JSON.stringify(plan).replaceAll(repo, '')) as unknown;
      const file = join(expectedDir, `${name}.plan.json`);
      if (update) writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
      assert.ok(existsSync(file), `missing ${file}: run with UPDATE_GOLDEN=1 and review it`);
      assert.deepStrictEqual(actual, JSON.parse(readFileSync(file, 'utf8')));
    });
  }

  test('every example component validates', () => {
    const components = readdirSync(join(repo, 'components')).map((n) => join(repo, 'components', n, 'component.yaml'));
    assert.ok(components.length >= 4);
    assert.deepEqual(validateFiles(components), []);
  });
});
