import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIssue, PlanError } from '../domain/issue.js';
import { compileWorkflow } from './compile-workflow.js';
import { cronProblem } from './cron.js';

const noComponents = {
  resolve: (ref: string) => {
    throw new Error(`no component ${ref}`);
  },
};

function issuesOf(body: string): string[] {
  const text = `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: nightly\n${body}stages:\n  - name: s\n    actions:\n      - { name: a, run: "true" }\n`;
  try {
    compileWorkflow(text, 'nightly.yaml', noComponents);
  } catch (error) {
    if (error instanceof PlanError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

// `0 0 31 2 *` was accepted and never ran
test('a cron schedule that never fires is refused; one that fires in leap years is not', () => {
  assert.match(cronProblem('0 0 31 2 *') ?? '', /never fires/);
  assert.match(cronProblem('0 0 30 2 *') ?? '', /never fires/);
  assert.match(cronProblem('0 0 31 4,6 *') ?? '', /never fires/);
  assert.equal(cronProblem('0 0 29 2 *'), undefined);
  assert.equal(cronProblem('0 0 31 1-12 *'), undefined);
  assert.deepEqual(issuesOf('triggers:\n  - cron: "0 0 31 2 *"\n').length, 1);
});

// it was accepted, then failed silently every time it fired
test('a cron trigger on a workflow whose required inputs have no default is a load error at the trigger', () => {
  const inputs =
    'inputs:\n  type: object\n  required: [repo, ref]\n  properties:\n    repo: { type: string }\n    ref: { type: string, default: main }\n';
  const issues = issuesOf(`${inputs}triggers:\n  - cron: "0 3 * * *"\n`);
  assert.equal(issues.length, 1, issues.join('\n'));
  assert.match(
    issues[0]!,
    /^nightly\.yaml:11:5: triggers\[0\]\.cron: a cron run starts with no inputs, but the workflow requires repo with no default; give it a default/,
  );
  const defaulted = inputs.replace('repo: { type: string }', 'repo: { type: string, default: x }');
  assert.deepEqual(issuesOf(`${defaulted}triggers:\n  - cron: "0 3 * * *"\n`), []);
  assert.deepEqual(issuesOf(`${inputs}triggers:\n  - manual: {}\n`), []);
});
