import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PlanError, formatIssue } from '../domain/issue.js';
import {
  checkFiles,
  createFileResolver,
  loadComponentFile,
  loadWorkflowFile,
  MAX_FILE_BYTES,
  validateFiles,
} from './load.js';
import { parseComponent } from '../plan/parse-component.js';

const component = (name: string, extra = 'command: [./run.sh]') =>
  `apiVersion: pilotage.dev/v1\nkind: Component\nname: ${name}\nversion: 1.0.0\n${extra}\n`;
const workflow = (actions: string) =>
  `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: wf\nstages:\n  - name: s\n    actions:\n${actions}`;

describe('file loading', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pilotage-plan-'));
    mkdirSync(join(dir, 'flows'));
    mkdirSync(join(dir, 'components', 'tool'), { recursive: true });
    writeFileSync(join(dir, 'components', 'tool', 'component.yaml'), component('tool'));
    writeFileSync(join(dir, 'components', 'bad.yaml'), component('bad', 'imag: x'));
    writeFileSync(
      join(dir, 'flows', 'wf.yaml'),
      workflow(
        '      - { name: a, component: ../components/tool }\n      - { name: b, component: ../components/tool/component.yaml }\n',
      ),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('paths are relative to the workflow file, and a folder means its component.yaml', () => {
    const plan = loadWorkflowFile(join(dir, 'flows', 'wf.yaml'));
    const [a, b] = plan.stages[0]?.actions ?? [];
    assert.equal(a?.component.dir, join(dir, 'components', 'tool'));
    assert.deepEqual(a?.component.command, ['./run.sh']);
    assert.equal(a?.component, b?.component, 'one file is compiled once per resolver');
    assert.equal(plan.file, join(dir, 'flows', 'wf.yaml'));
  });

  test('registry references go to the registry callback', () => {
    const registered = parseComponent(component('reg'), join(dir, 'reg.yaml'));
    const asked: string[] = [];
    const resolver = createFileResolver((ref) => {
      asked.push(ref);
      return ref === 'reg@^1' ? registered : undefined;
    });
    assert.equal(resolver.resolve('reg@^1', join(dir, 'flows', 'wf.yaml')), registered);
    assert.throws(() => resolver.resolve('other@2.0.0', 'wf.yaml'), {
      message: 'component other@2.0.0 not found; register it or use a path to its component.yaml',
    });
    assert.deepEqual(asked, ['reg@^1', 'other@2.0.0']);
    assert.throws(() => createFileResolver().resolve('reg@1.0.0', 'wf.yaml'), /not found; register it/);
  });

  test('missing and invalid component files are reported', () => {
    const resolver = createFileResolver();
    const from = join(dir, 'flows', 'wf.yaml');
    assert.throws(() => resolver.resolve('../components/none.yaml', from), {
      message: `component file "${join(dir, 'components', 'none.yaml')}" not found`,
    });
    assert.throws(
      () => resolver.resolve('../components/bad.yaml', from),
      (error: unknown) => error instanceof PlanError && error.issues[0]?.file === join(dir, 'components', 'bad.yaml'),
    );
  });

  test('validateFiles detects each kind and gathers every issue', () => {
    writeFileSync(join(dir, 'odd.yaml'), 'apiVersion: pilotage.dev/v1\nkind: Pipeline\n');
    const issues = validateFiles([
      join(dir, 'flows', 'wf.yaml'),
      join(dir, 'components', 'tool', 'component.yaml'),
      join(dir, 'components', 'bad.yaml'),
      join(dir, 'odd.yaml'),
      join(dir, 'absent.yaml'),
    ]).map((issue) => formatIssue(issue).replaceAll(`${dir}/`, ''));
    assert.deepEqual(issues, [
      'components/bad.yaml:1:1: a component needs an image (container executors) or a command (local executor), or both',
      'components/bad.yaml:5:1: imag: unknown key "imag" (did you mean "image"?)',
      'odd.yaml:2:7: kind: expected kind "Workflow" or "Component", got "Pipeline"',
      'absent.yaml:1:1: cannot read the file: no such file',
    ]);
  });

  test('loading a missing file is a PlanError at 1:1', () => {
    assert.throws(
      () => loadComponentFile(join(dir, 'nope.yaml')),
      (error: unknown) =>
        error instanceof PlanError && error.issues[0]?.line === 1 && /no such file/.test(error.message),
    );
  });
});

describe('only regular files of bounded size are read', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pilotage-files-'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    writeFileSync(join(dir, 'huge.yaml'), Buffer.alloc(MAX_FILE_BYTES + 1, 0x20));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // Each of these used to hang `validate` (reading forever) or fill memory.
  for (const [name, target, reason] of [
    ['a device', '/dev/zero', /\/dev\/zero is a device, pipe or socket, not a regular file/],
    ['a FIFO', 'fifo', /fifo is a device, pipe or socket, not a regular file/],
    ['a folder', '.', /is a folder, not a regular file/],
    ['a file over the limit', 'huge.yaml', /over the limit of 4194304 bytes/],
  ] as const) {
    const at = (): string => (target.startsWith('/') ? target : join(dir, target));
    // (a folder named by `component:` means its component.yaml)
    test(`component: naming ${name} is an issue at the action's component field`, { skip: target === '.' }, () => {
      const file = join(dir, `wf-${name.replaceAll(' ', '-')}.yaml`);
      writeFileSync(file, workflow(`      - name: a\n        component: ${at()}\n`));
      const issues = validateFiles([file]).map(formatIssue);
      assert.equal(issues.length, 1, issues.join('\n'));
      assert.match(issues[0]!, /:8:20: stages\[0\]\.actions\[0\]\.component: /);
      assert.match(issues[0]!, reason);
    });
    test(`validate: ${name} given as the file is one issue at 1:1`, () => {
      const issues = validateFiles([at()]);
      assert.equal(issues.length, 1);
      assert.equal(issues[0]!.line, 1);
      assert.match(issues[0]!.message, reason);
    });
  }
});

describe('validate --executor: fields the executor cannot honour', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pilotage-capabilities-'));
    writeFileSync(
      join(dir, 'heavy.yaml'),
      component('heavy', 'command: [./run.sh]\nresources: { cpu: 500m }\nkubernetes: { serviceAccountName: builder }'),
    );
    writeFileSync(
      join(dir, 'wf.yaml'),
      workflow(
        '      - { name: a, component: ./heavy.yaml }\n      - { name: b, component: ./heavy.yaml, executor: docker }\n      - { name: c, run: "true" }\n',
      ),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a workflow gets one warning per action, at its component, for the executor it runs on', () => {
    const { issues, warnings } = checkFiles([join(dir, 'wf.yaml')], { executor: 'local' });
    assert.deepEqual(issues, []);
    assert.deepEqual(
      warnings.map((w) => `${w.line}:${w.column} ${w.path}: ${w.message}`),
      [
        '7:31 stages[0].actions[0].component: the local executor does not honour resources (a local process gets no CPU or memory limits); kubernetes (Kubernetes settings are for the kubernetes executor)',
        '8:31 stages[0].actions[1].component: the docker executor does not honour kubernetes (Kubernetes settings are for the kubernetes executor)',
      ],
    );
  });

  test('a component file gets a warning at each field', () => {
    const { warnings } = checkFiles([join(dir, 'heavy.yaml')], { executor: 'local' });
    assert.deepEqual(
      warnings.map((w) => `${w.line}:${w.column} ${w.path}`),
      ['6:1 resources', '7:1 kubernetes'],
    );
  });

  test('kubernetes: cache.paths is honoured (copy pods), so no warning, in stages or finally', () => {
    const file = join(dir, 'cached.yaml');
    writeFileSync(
      file,
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: cached\nstages:\n  - name: build\n    actions:\n' +
        '      - name: build\n        run: "true"\n        cache:\n          paths: [dist]\n' +
        '      - { name: test, run: "true", cache: true }\n' +
        'finally:\n  - name: after\n    actions:\n      - { name: keep, run: "true", cache: { key: k, paths: [logs] } }\n',
    );
    const { issues, warnings } = checkFiles([file], { executor: 'kubernetes' });
    assert.deepEqual(issues, []);
    assert.deepEqual(warnings, []);
  });

  test('without --executor there are no warnings', () => {
    assert.deepEqual(checkFiles([join(dir, 'wf.yaml')]).warnings, []);
  });
});
