import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIssue, PlanError } from '../domain/issue.js';
import { compileWorkflow } from './compile-workflow.js';
import { renderTemplate } from './render.js';

const noComponents = {
  resolve: (ref: string) => {
    throw new Error(`no component ${ref}`);
  },
};

function issuesOf(expression: string): string[] {
  const text = [
    'apiVersion: pilotage.dev/v1',
    'kind: Workflow',
    'name: limits',
    'inputs: { type: object, properties: { name: { type: string } } }',
    'stages:',
    '  - name: s',
    '    actions:',
    '      - name: a',
    '        run: echo',
    `        with: { v: "\${{ ${expression} }}" }`,
  ].join('\n');
  try {
    compileWorkflow(text, 'limits.yaml', noComponents);
  } catch (error) {
    if (error instanceof PlanError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

// A 5,000-term expression used to end `validate` with a RangeError stack trace.
test('an expression of 5,000 terms is an issue naming the limit, not a crash', () => {
  const issues = issuesOf(Array.from({ length: 5000 }, () => 'inputs.name').join(' + '));
  assert.equal(issues.length, 1);
  assert.match(
    issues[0]!,
    /^limits\.yaml:10:\d+: stages\[0\]\.actions\[0\]\.with\.v: invalid expression: the expression is too large: at most 1000 /,
  );
});

test('an expression nested 3,000 deep is an issue naming the limit', () => {
  const issues = issuesOf(`${'('.repeat(3000)}1${')'.repeat(3000)}`);
  assert.equal(issues.length, 1);
  assert.match(issues[0]!, /the expression nests too deep: at most 100 levels/);
});

test('an expression within the limits compiles and evaluates', () => {
  assert.deepEqual(issuesOf(Array.from({ length: 300 }, () => 'inputs.name').join(' + ')), []);
  const template = { kind: 'expression', expr: { source: Array(300).fill('1').join(' + '), at: 'x' } } as const;
  assert.equal(renderTemplate(template, {}), 300);
});
