import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlanError, formatIssue } from '../domain/issue.js';
import { compileWorkflow } from './compile-workflow.js';
import type { ComponentResolver } from './component-resolver.js';
import { parseComponent } from './parse-component.js';
import type { Plan, ResolvedComponent } from './types.js';

const cloneYaml = `apiVersion: pilotage.dev/v1
kind: Component
name: git-clone
version: 1.2.0
image: git:1
inputs: { type: object, required: [repo], properties: { repo: { type: string, pattern: "^https://" }, depth: { type: integer } } }
outputs: { type: object, properties: { commit: { type: string }, ok: { type: boolean } } }
`;
const openYaml = `apiVersion: pilotage.dev/v1
kind: Component
name: open
version: 0.1.0
command: [./run.sh]
`;

/** Resolves registry references from a fixed list, and records what it was asked. */
class ListResolver implements ComponentResolver {
  readonly asked: [string, string][] = [];
  readonly #components = new Map<string, ResolvedComponent>([
    ['git-clone@1.2.0', parseComponent(cloneYaml, '/registry/git-clone.yaml')],
    ['open@0.1.0', parseComponent(openYaml, '/registry/open.yaml')],
  ]);
  resolve(ref: string, fromFile: string): ResolvedComponent {
    this.asked.push([ref, fromFile]);
    if (ref === 'broken@1.0.0') parseComponent('kind: Component\n', '/registry/broken.yaml');
    const found = this.#components.get(ref);
    if (!found) throw new Error(`component ${ref} not found`);
    return found;
  }
}

function workflow(body: string): string {
  return `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: wf\n${body}`;
}

function compile(body: string, resolver = new ListResolver()): Plan {
  return compileWorkflow(workflow(body), 'wf.yaml', resolver);
}

/** The formatted issues of a workflow that must fail. */
function issuesOf(body: string): string[] {
  try {
    compile(body);
  } catch (error) {
    if (error instanceof PlanError) return error.issues.map(formatIssue);
    throw error;
  }
  assert.fail('the workflow compiled');
}

const typedInputs = `inputs:
  type: object
  properties:
    ref: { type: string }
    count: { type: integer }
    ratio: { type: number }
    tags: { type: array, items: { type: string } }
    meta: { type: object }
    level: { enum: [low, high] }
`;

describe('compileWorkflow', () => {
  test('resolves components through the resolver, with the workflow file', () => {
    const resolver = new ListResolver();
    const plan = compile(
      `stages:
  - name: a
    actions:
      - { name: clone, component: git-clone@1.2.0, with: { repo: "https://x" } }
`,
      resolver,
    );
    assert.deepEqual(resolver.asked, [['git-clone@1.2.0', 'wf.yaml']]);
    assert.equal(plan.stages[0]?.actions[0]?.component.name, 'git-clone');
    assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.stages[0]?.actions[0]?.retries));
  });

  test('applies defaults: timeouts, retries, concurrency, executor auto', () => {
    const plan = compile(`executor: auto
version: 1.10
stages:
  - name: a
    actions:
      - { name: inline, run: "echo hi" }
      - { name: clone, component: git-clone@1.2.0, with: { repo: "https://x" }, timeout: 30, retries: 1 }
`);
    assert.equal(plan.executor, undefined);
    assert.equal(plan.version, '1.10');
    assert.equal(plan.concurrency, 16);
    assert.equal(plan.failFast, false);
    const [inline, clone] = plan.stages[0]?.actions ?? [];
    assert.equal(inline?.timeoutMs, 3_600_000);
    assert.deepEqual(inline?.component.command, ['sh', '-c', 'echo hi']);
    assert.equal(inline?.component.name, 'inline:inline');
    assert.equal(clone?.timeoutMs, 30_000);
    assert.deepEqual(clone?.retries, { limit: 1, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 });
  });

  test('records the actions each action reads, in file order', () => {
    const plan = compile(`stages:
  - name: one
    actions:
      - { name: b, run: x }
      - { name: a, run: x }
  - name: two
    actions:
      - name: c
        run: x
        if: actions.a.status == "succeeded"
        env: { B: "\${{ actions.b.outputs.x }}" }
      - name: d
        run: x
        with: "\${{ actions }}"
`);
    const [c, d] = plan.stages[1]?.actions ?? [];
    assert.deepEqual(c?.needs, ['b', 'a']);
    assert.deepEqual(d?.needs, ['b', 'a']);
  });

  test('types inputs from the workflow schema: int, dyn number, lists, maps, enums', () => {
    const plan = compile(`${typedInputs}stages:
  - name: a
    actions:
      - name: ok
        run: x
        if: \${{ inputs.count > 2 && inputs.ratio > 0.5 && size(inputs.tags) > 0 && inputs.meta.any == 1 && inputs.level == "low" }}
        with: { n: "\${{ inputs.count + 1 }}", r: "\${{ inputs.ratio * 1.5 }}", opt: "\${{ inputs.?ref.orValue('main') }}" }
`);
    assert.equal(plan.stages[0]?.actions[0]?.if?.source.startsWith('inputs.count > 2'), true);
    assert.deepEqual(
      issuesOf(`${typedInputs}stages:
  - name: a
    actions:
      - { name: x, run: x, with: { n: "\${{ inputs.count * 1.5 }}" } }
      - { name: y, run: x, if: "\${{ inputs.tags }}" }
      - { name: z, run: x, if: "\${{ inputs.level == 1 }}" }
`),
      [
        'wf.yaml:16:44: stages[0].actions[0].with.n: type error: no such overload: int * double (CEL does not convert types: use string(), int() or double())',
        'wf.yaml:17:37: stages[0].actions[1].if: expected a condition (bool), but the expression is list<string>',
        'wf.yaml:18:37: stages[0].actions[2].if: type error: no such overload: string == int (CEL does not convert types: use string(), int() or double())',
      ],
    );
  });

  test('open schemas let any field through; closed ones catch typos', () => {
    const open = `inputs: { type: object, additionalProperties: true, properties: { ref: { type: string } } }
stages:
  - name: a
    actions:
      - { name: x, run: x, with: { v: "\${{ inputs.anything }}" } }
  - name: b
    actions:
      - { name: y, run: x, if: "\${{ actions.x.outputs.flag }}" }
`;
    assert.equal(compile(open).stages.length, 2);
    assert.deepEqual(
      issuesOf(`stages:
  - name: a
    actions:
      - { name: clone, component: git-clone@1.2.0, with: { repo: "https://x" } }
  - name: b
    actions:
      - { name: y, run: x, if: "\${{ actions.clone.outputs.ok && actions.clone.outputs.comit == 'x' }}" }
`),
      [
        'wf.yaml:10:87: stages[1].actions[0].if: action "clone" (git-clone@1.2.0) declares no output "comit" (did you mean "commit"?); its outputs are commit, ok',
      ],
    );
  });

  test('points at the exact character in block and escaped scalars', () => {
    const issues = issuesOf(`stages:
  - name: a
    actions:
      - name: x
        run: x
        with:
          script: |
            echo start
            echo \${{ run.nope }}
          quoted: "tab\\t\${{ run.id + }}"
`);
    assert.deepEqual(issues, [
      'wf.yaml:12:26: stages[0].actions[0].with.script: type error: No such key: nope',
      'wf.yaml:13:37: stages[0].actions[0].with.quoted: invalid expression: unexpected end of the expression',
    ]);
  });

  test('collects every issue of the file, sorted by position', () => {
    const issues = issuesOf(`stages:
  - name: a
    actions:
      - { name: x, run: x, if: "\${{ actions.y.status == 'ok' }}" }
      - { name: y, component: nope@1.0.0 }
      - { name: z, component: broken@1.0.0 }
  - name: a
    actions: []
`);
    assert.deepEqual(issues, [
      'wf.yaml:7:45: stages[0].actions[0].if: action "y" is in the same stage "a" (a cycle: they run in parallel); an action can only read actions of earlier stages',
      'wf.yaml:8:31: stages[0].actions[1].component: component nope@1.0.0 not found',
      'wf.yaml:9:31: stages[0].actions[2].component: component "broken@1.0.0" is invalid (see the issues in /registry/broken.yaml)',
      'wf.yaml:10:5: stages[1]: a stage needs at least one action (or type: approval)',
      'wf.yaml:10:11: stages[1].name: duplicate stage name "a" (also at stages[0]); stage names must be unique in the workflow',
      '/registry/broken.yaml:1:1: missing required key "apiVersion"',
      '/registry/broken.yaml:1:1: missing required key "name"',
      '/registry/broken.yaml:1:1: missing required key "version"',
      '/registry/broken.yaml:1:1: a component needs an image (container executors) or a command (local executor), or both',
    ]);
  });

  test('checks literal event data against the component inputs, leaving expressions to run time', () => {
    const issues = issuesOf(`${typedInputs}stages:
  - name: a
    actions:
      - { name: one, component: git-clone@1.2.0, with: { repo: "\${{ inputs.ref }}", depth: "\${{ inputs.count }}" } }
      - { name: two, component: git-clone@1.2.0, with: { repo: "http://insecure", depth: 1.5 } }
      - { name: three, component: git-clone@1.2.0, with: "\${{ inputs.meta }}" }
`);
    assert.deepEqual(issues, [
      'wf.yaml:17:64: stages[0].actions[1].with.repo: does not match the inputs of git-clone@1.2.0: must match pattern "^https://"',
      'wf.yaml:17:90: stages[0].actions[1].with.depth: does not match the inputs of git-clone@1.2.0: must be integer',
    ]);
  });

  test('workflow env and triggers see only their own names', () => {
    const plan =
      compile(`${typedInputs}env: { REF: "\${{ inputs.ref }}-\${{ run.number }}", TOKEN: "\${{ secrets.TOKEN }}" }
triggers:
  - webhook: { provider: github, inputs: { ref: "\${{ payload.ref }}", count: "\${{ int(headers['x-count']) }}" } }
  - cdevent: { type: dev.cdevents.pipelinerun.finished, filter: "\${{ event.subject.content.outcome == 'success' }}" }
stages: [ { name: a, actions: [ { name: x, run: x } ] } ]
`);
    assert.equal(plan.env.REF?.kind, 'interpolation');
    assert.equal(
      plan.triggers[1]?.kind === 'cdevent' && plan.triggers[1].filter?.source,
      "event.subject.content.outcome == 'success'",
    );
    assert.deepEqual(
      issuesOf(`env: { A: "\${{ env.B }}", C: "\${{ actions.x.status }}" }
stages: [ { name: a, actions: [ { name: x, run: x } ] } ]
`),
      [
        'wf.yaml:4:16: env.A: unknown name "env"; expressions here can read inputs, run, secrets',
        'wf.yaml:4:35: env.C: unknown name "actions"; expressions here can read inputs, run, secrets',
      ],
    );
  });

  test("passEnv: the workflow's then the action's, on each action; bad entries are located", () => {
    const plan = compile(`passEnv: [SSH_AUTH_SOCK, "AWS_*"]
stages:
  - name: a
    actions:
      - { name: x, run: x, passEnv: [HTTPS_PROXY, SSH_AUTH_SOCK] }
      - { name: y, run: y }
`);
    assert.deepEqual(plan.passEnv, ['SSH_AUTH_SOCK', 'AWS_*']);
    assert.deepEqual(plan.stages[0]?.actions[0]?.passEnv, ['SSH_AUTH_SOCK', 'AWS_*', 'HTTPS_PROXY']);
    assert.deepEqual(plan.stages[0]?.actions[1]?.passEnv, ['SSH_AUTH_SOCK', 'AWS_*']);
    assert.equal(
      compile(`stages: [ { name: a, actions: [ { name: x, run: x } ] } ]\n`).stages[0]?.actions[0]?.passEnv,
      undefined,
    );
    const issues = issuesOf(`stages: [ { name: a, actions: [ { name: x, run: x, passEnv: [AWS-KEY] } ] } ]\n`);
    assert.equal(issues.length, 1);
    assert.match(
      issues[0] ?? '',
      /^wf\.yaml:4:62: stages\[0\]\.actions\[0\]\.passEnv\[0\]: .*a variable name or a glob/,
    );
  });

  test('expression positions are recorded for run-time messages', () => {
    const plan = compile(`stages:
  - name: a
    actions:
      - name: x
        run: x
        with: { a: "pre \${{ run.id }} post" }
        if: run.number > 1
`);
    const action = plan.stages[0]?.actions[0];
    assert.deepEqual(action?.with, {
      kind: 'object',
      entries: { a: { kind: 'interpolation', parts: ['pre ', { source: 'run.id', at: 'wf.yaml:9:25' }, ' post'] } },
    });
    assert.deepEqual(action?.if, { source: 'run.number > 1', at: 'wf.yaml:10:13' });
  });
});
