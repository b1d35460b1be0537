import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIssue, PlanError } from '../domain/issue.js';
import { compileWorkflow } from './compile-workflow.js';
import { createRegistryResolver, registryNames, type RegistryEntry } from './registry-resolver.js';

function entry(name: string, version: string, extra: Partial<RegistryEntry> = {}): RegistryEntry {
  return {
    name,
    version,
    source: `apiVersion: pilotage.dev/v1
kind: Component
name: ${name}
version: ${version}
command: [./run.sh]
inputs: { type: object, properties: { who: { type: string } }, additionalProperties: false }
`,
    deprecated: false,
    deprecationMessage: null,
    ...extra,
  };
}

const registry = [
  entry('greet', '0.9.0'),
  entry('greet', '1.0.0', { dir: '/srv/components/greet' }),
  entry('greet', '1.2.0'),
  entry('greet', '1.10.0'),
  entry('greet', '1.11.0', { deprecated: true, deprecationMessage: 'leaks memory, use 1.10.0' }),
  entry('greet', '2.0.0-rc.1'),
  entry('old', '1.0.0', { deprecated: true, deprecationMessage: null }),
];

/** A workflow whose one action (line 8) uses `component`. */
function workflow(component: string, withBlock = '{ who: ada }'): string {
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: wf
stages:
  - name: s
    actions:
      - name: a
        component: ${component}
        with: ${withBlock}
`;
}

function resolveVersion(component: string, entries = registry): { version: string; warnings: readonly string[] } {
  const resolver = createRegistryResolver(entries);
  const plan = compileWorkflow(workflow(component), 'wf.yaml', resolver);
  return { version: plan.stages[0]!.actions[0]!.component.version, warnings: resolver.warnings };
}

function issuesOf(component: string, withBlock?: string): string[] {
  try {
    compileWorkflow(workflow(component, withBlock), 'wf.yaml', createRegistryResolver(registry));
  } catch (error) {
    if (error instanceof PlanError) return error.issues.map(formatIssue);
    throw error;
  }
  assert.fail('the workflow compiled');
}

describe('createRegistryResolver', () => {
  const cases: [ref: string, version: string][] = [
    ['greet@1.2.0', '1.2.0'],
    ['greet@^1', '1.10.0'],
    ['greet@1.x', '1.10.0'],
    ['greet@1', '1.10.0'],
    ['greet@~1.2', '1.2.0'],
    ['greet@^0.9', '0.9.0'],
    ['greet@latest', '1.10.0'],
    ['greet@2.0.0-rc.1', '2.0.0-rc.1'],
  ];
  for (const [ref, version] of cases) {
    test(`${ref} resolves to ${version}`, () => {
      assert.deepEqual(resolveVersion(ref), { version, warnings: [] });
    });
  }

  test('ranges skip deprecated versions (1.11.0 is the highest 1.x but deprecated)', () => {
    assert.equal(resolveVersion('greet@^1').version, '1.10.0');
    assert.match(
      issuesOf('greet@^1.11')[0]!,
      /no version of greet matches \^1\.11: only deprecated versions match \(such as 1\.11\.0\)/,
    );
  });

  test('an exact deprecated version still resolves, once warned', () => {
    assert.deepEqual(resolveVersion('greet@1.11.0'), {
      version: '1.11.0',
      warnings: ['component greet@1.11.0 is deprecated: leaks memory, use 1.10.0'],
    });
    assert.deepEqual(resolveVersion('old@1.0.0').warnings, ['component old@1.0.0 is deprecated']);
  });

  test('the resolved component is the stored spec, with the entry dir or none', () => {
    const resolver = createRegistryResolver(registry);
    const exact = resolver.resolve('greet@1.0.0', 'wf.yaml');
    assert.equal(exact.dir, '/srv/components/greet');
    assert.deepEqual(exact.command, ['./run.sh']);
    assert.equal(resolver.resolve('greet@1.2.0', 'wf.yaml').dir, undefined);
    assert.ok(Object.isFrozen(exact));
    assert.equal(resolver.resolve('greet@1.0.0', 'wf.yaml'), exact, 'compiled once');
  });

  test('errors become issues at the component field, line 8', () => {
    assert.deepEqual(issuesOf('nothing@^1'), [
      'wf.yaml:8:20: stages[0].actions[0].component: component nothing is not registered; register it first (pilotage component register FILE)',
    ]);
    assert.deepEqual(issuesOf('greet@^3'), [
      'wf.yaml:8:20: stages[0].actions[0].component: no version of greet matches ^3: registered: 2.0.0-rc.1, 1.11.0, 1.10.0, 1.2.0, 1.0.0, 0.9.0',
    ]);
    assert.deepEqual(issuesOf('greet@1.3.0'), [
      'wf.yaml:8:20: stages[0].actions[0].component: component greet@1.3.0 is not registered; registered: 2.0.0-rc.1, 1.11.0, 1.10.0, 1.2.0, 1.0.0, 0.9.0',
    ]);
    assert.deepEqual(issuesOf('old@^1'), [
      'wf.yaml:8:20: stages[0].actions[0].component: no version of old matches ^1: only deprecated versions match (such as 1.0.0); write an exact version to keep using one',
    ]);
    assert.match(
      issuesOf('greet@>=1')[0]!,
      /wf\.yaml:8:20: .*">=1" is not a version or a range; write one of 1\.2\.0 \(exact\), \^1/,
    );
    assert.match(
      issuesOf('./components/greet')[0]!,
      /wf\.yaml:8:20: .*not from files: register "\.\/components\/greet"/,
    );
  });

  test('the resolved inputs schema checks literal with: values', () => {
    const issues = issuesOf('greet@^1', '{ whom: ada }');
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /^wf\.yaml:9:\d+: stages\[0\]\.actions\[0\]\.with/);
  });

  test('a stored spec that no longer parses is reported under its name@version', () => {
    const broken = { ...entry('bad', '1.0.0'), source: 'apiVersion: pilotage.dev/v1\nkind: Component\nname: bad\n' };
    const resolver = createRegistryResolver([broken]);
    assert.throws(
      () => compileWorkflow(workflow('bad@1.0.0', '{}'), 'wf.yaml', resolver),
      (error: unknown) =>
        error instanceof PlanError &&
        error.issues.some((i) => i.file === 'bad@1.0.0') &&
        error.issues.some((i) => i.file === 'wf.yaml' && i.message.includes('component "bad@1.0.0" is invalid')),
    );
  });
});

describe('registryNames', () => {
  test('lists the registry names an action references, once, in file order', () => {
    const text = `apiVersion: pilotage.dev/v1
kind: Workflow
name: wf
stages:
  - name: one
    actions:
      - { name: a, component: zeta@^1 }
      - { name: b, component: ./local/component.yaml }
      - { name: c, run: echo hi }
  - name: two
    actions:
      - { name: d, component: alpha@1.0.0 }
      - { name: e, component: zeta@2.0.0 }
`;
    assert.deepEqual(registryNames(text, 'wf.yaml'), ['zeta', 'alpha']);
  });

  test('unreadable or odd text gives no names', () => {
    assert.deepEqual(registryNames('stages: [', 'wf.yaml'), []);
    assert.deepEqual(registryNames('stages: 3', 'wf.yaml'), []);
    assert.deepEqual(registryNames('', 'wf.yaml'), []);
  });
});
