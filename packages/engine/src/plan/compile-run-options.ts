import { celFields } from './cel-types.js';
import { ExpressionChecker } from './expression-check.js';
import type { ExpressionCompiler } from './expression-compiler.js';
import type { IssueList } from './issue-list.js';
import { asBoolean, asNumber, asRecord, type Json, type JsonRecord } from './json-access.js';
import { PLAN_DEFAULTS, type PlanConcurrencyGroup, type Template } from './types.js';

/**
 * Workflow-level settings of a run that are not stages: its outputs, its concurrency group and
 * its action parallelism.
 */

/**
 * The workflow's `outputs:`: name → template over every action (any stage, finally too),
 * checked in `checker`'s scope. Absent when there are none.
 */
export function compileRunOutputs(
  value: Json,
  expressions: ExpressionCompiler,
  checker: ExpressionChecker,
): Record<string, Template> | undefined {
  const record = asRecord(value);
  if (record === undefined) return undefined;
  const outputs: Record<string, Template> = {};
  for (const [name, item] of Object.entries(record)) {
    outputs[name] = expressions.template(item, ['outputs', name], checker).template;
  }
  return outputs;
}

const NO_SECRETS = 'a concurrency group name is stored and shown with the run';

/**
 * `concurrency:` as a group: a name (`deploy-${{ inputs.env }}`) or `{group, cancelInProgress}`.
 * The name reads `inputs` and `run.workflow` only (it is rendered before the run exists), never
 * secrets. A number is the older spelling of `maxParallel`: no group.
 */
export function compileGroup(
  value: Json,
  expressions: ExpressionCompiler,
  inputFields: Readonly<Record<string, unknown>> | undefined,
): PlanConcurrencyGroup | undefined {
  if (typeof value === 'number' || value === undefined) return undefined;
  const record: JsonRecord | undefined = typeof value === 'string' ? { group: value } : asRecord(value);
  if (record === undefined || typeof record.group !== 'string') return undefined;
  const path = typeof value === 'string' ? ['concurrency'] : ['concurrency', 'group'];
  const checker = new ExpressionChecker({
    declarations: {
      inputs: inputFields ? celFields(inputFields) : 'map<string, dyn>',
      run: { workflow: 'string' },
    },
    ...(inputFields ? { inputFields } : {}),
  });
  const group = expressions.template(record.group, path, checker, NO_SECRETS).template;
  return { group, cancelInProgress: asBoolean(record.cancelInProgress) ?? false };
}

/**
 * Most actions of a run running at once: `maxParallel`, or `concurrency` given as a number (its
 * older spelling); both at once is an error.
 */
export function maxParallel(doc: JsonRecord, issues: IssueList): number {
  const legacy = asNumber(doc.concurrency);
  const current = asNumber(doc.maxParallel);
  if (legacy !== undefined && current !== undefined) {
    issues.at(
      ['concurrency'],
      'concurrency as a number is the older spelling of maxParallel: give only maxParallel (concurrency: {group} names a concurrency group)',
      { onKey: true },
    );
  }
  return current ?? legacy ?? PLAN_DEFAULTS.concurrency;
}
