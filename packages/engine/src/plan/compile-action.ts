import { dirname, resolve } from 'node:path';
import { PlanError } from '../domain/issue.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { isPathRef, isRegistryRef, type ComponentResolver } from './component-resolver.js';
import type { ExpressionCompiler, ScopedChecker } from './expression-compiler.js';
import { hasExpression } from './expression-text.js';
import type { FieldPath } from './field-path.js';
import type { IssueList } from './issue-list.js';
import { asBoolean, asNumber, asRecord, asString, asStrings, compact, type JsonRecord } from './json-access.js';
import { literalInputProblems } from './literal-inputs.js';
import { durationMs, timeoutMs } from './parse-component.js';
import { PLAN_DEFAULTS, type PlanAction, type ResolvedComponent, type Template } from './types.js';

/**
 * Find the component of an action: resolve `component:` through the resolver, or build the
 * inline component of a `run:` script. Reports (and returns undefined) when it cannot.
 */
export function actionComponent(
  action: JsonRecord,
  path: FieldPath,
  issues: IssueList,
  resolver: ComponentResolver,
): ResolvedComponent | undefined {
  const file = issues.source.file;
  const name = asString(action.name) ?? '';
  if (action.image !== undefined && action.run === undefined) {
    issues.at(
      [...path, 'image'],
      "image is only for inline run: actions (a component's image is set in its component.yaml)",
      {
        onKey: true,
      },
    );
  }
  if (action.component !== undefined && action.run !== undefined) {
    issues.at([...path, 'run'], 'use either component or run, not both', { onKey: true });
    return undefined;
  }
  if (action.component === undefined && action.run === undefined) {
    issues.at(
      path,
      'missing "component" (a registered component or a path to a component.yaml) or "run" (a shell script)',
    );
    return undefined;
  }
  const script = asString(action.run);
  if (script !== undefined && hasExpression(script)) {
    // the script is the component's command, fixed at load time: nothing would render it
    issues.at(
      [...path, 'run'],
      'expressions are not evaluated in run: scripts; pass values with env: (read $NAME) or with: (read $CO_INPUT_<NAME>)',
    );
  }
  if (script !== undefined) {
    return compact({
      name: `inline:${name}`,
      version: '0.0.0',
      image: asString(action.image),
      command: ['sh', '-c', script],
      dir: resolve(dirname(file)),
      strict: false,
      env: {},
      volumes: [],
    });
  }
  const ref = asString(action.component);
  if (ref === undefined || ref === '') return undefined;
  const refPath = [...path, 'component'];
  if (!isPathRef(ref) && !isRegistryRef(ref) && isRegistryRef(`${ref}@1`)) {
    issues.at(
      refPath,
      `a registered component needs a version: ${ref}@1.2.0 or ${ref}@^1 (or give a path to its component.yaml)`,
    );
    return undefined;
  }
  if (!isPathRef(ref) && !isRegistryRef(ref)) {
    issues.at(
      refPath,
      `expected a registered component such as git-clone@1.2.0 or a path to a component.yaml such as ./components/git-clone/component.yaml, got "${ref}"`,
    );
    return undefined;
  }
  try {
    return resolver.resolve(ref, file);
  } catch (error) {
    if (error instanceof PlanError) {
      issues.add(...error.issues);
      const files = [...new Set(error.issues.map((issue) => issue.file))].join(', ');
      issues.at(refPath, `component "${ref}" is invalid (see the issues in ${files})`);
    } else {
      issues.at(refPath, error instanceof Error ? error.message : String(error));
    }
    return undefined;
  }
}

/** Everything compileAction needs besides the action itself. */
export interface ActionContext {
  readonly issues: IssueList;
  readonly expressions: ExpressionCompiler;
  readonly checker: ScopedChecker;
  readonly stage: string;
  /** declaration order of every action, to list `needs` in file order */
  readonly order: ReadonlyMap<string, number>;
  /** the workflow's `passEnv` (each action inherits it) */
  readonly passEnv: readonly string[];
}

/** Compile one action whose component is known: templates, condition, timeout, retries. */
export function compileAction(
  action: JsonRecord,
  path: FieldPath,
  component: ResolvedComponent,
  ctx: ActionContext,
): PlanAction {
  const { expressions, checker, issues } = ctx;
  const withValue: JsonValue = action.with === undefined ? {} : action.with;
  const data = expressions.template(withValue, [...path, 'with'], checker);
  const needs = new Set(data.needs);
  if (component.inputs !== undefined && data.template.kind !== 'expression') {
    const label = `${component.name}@${component.version}`;
    for (const problem of literalProblems(withValue, component)) {
      issues.at([...path, 'with', ...problem.path], `does not match the inputs of ${label}: ${problem.message}`);
    }
  }
  const condition = action.if === undefined ? undefined : expressions.condition(action.if, [...path, 'if'], checker);
  for (const need of condition?.needs ?? []) needs.add(need);
  const env: Record<string, Template> = {};
  for (const [key, value] of Object.entries(asRecord(action.env) ?? {})) {
    const text =
      typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : undefined;
    if (text === undefined) continue;
    const compiled = expressions.template(text, [...path, 'env', key], checker);
    for (const need of compiled.needs) needs.add(need);
    env[key] = compiled.template;
  }
  const strict = asBoolean(action.strict);
  const passEnv = [...new Set([...ctx.passEnv, ...asStrings(action.passEnv)])];
  return compact({
    name: asString(action.name) ?? '',
    stage: ctx.stage,
    component: strict === undefined || strict === component.strict ? component : { ...component, strict },
    with: data.template,
    if: condition?.expr,
    timeoutMs:
      timeoutMs(action.timeout, [...path, 'timeout'], issues) ?? component.timeoutMs ?? PLAN_DEFAULTS.actionTimeoutMs,
    retries: retryPolicy(action.retries, [...path, 'retries'], issues),
    env,
    passEnv: passEnv.length > 0 ? passEnv : undefined,
    executor: asString(action.executor),
    needs: [...needs].sort((a, b) => (ctx.order.get(a) ?? 0) - (ctx.order.get(b) ?? 0)),
  });
}

function literalProblems(value: JsonValue, component: ResolvedComponent): ReturnType<typeof literalInputProblems> {
  try {
    return literalInputProblems(value, component.inputs ?? true);
  } catch {
    // an inputs schema Ajv cannot compile was reported where the component was loaded
    return [];
  }
}

/** `retries: 2` or `{limit, backoff, factor, maxBackoff}`, with the plan defaults. */
function retryPolicy(value: JsonValue | undefined, path: FieldPath, issues: IssueList): RetryPolicy {
  const defaults: RetryPolicy = {
    limit: 0,
    backoffMs: PLAN_DEFAULTS.retryBackoffMs,
    factor: PLAN_DEFAULTS.retryFactor,
    maxBackoffMs: PLAN_DEFAULTS.retryMaxBackoffMs,
  };
  if (typeof value === 'number') return { ...defaults, limit: Number.isInteger(value) && value >= 0 ? value : 0 };
  const spec = asRecord(value);
  if (spec === undefined) return defaults;
  const policy: RetryPolicy = {
    limit: asNumber(spec.limit) ?? 0,
    backoffMs: durationMs(spec.backoff) ?? defaults.backoffMs,
    factor: asNumber(spec.factor) ?? defaults.factor,
    maxBackoffMs: durationMs(spec.maxBackoff) ?? Math.max(defaults.maxBackoffMs, durationMs(spec.backoff) ?? 0),
  };
  if (spec.maxBackoff !== undefined && policy.maxBackoffMs < policy.backoffMs) {
    issues.at(
      [...path, 'maxBackoff'],
      `maxBackoff (${String(spec.maxBackoff)}) is shorter than backoff (${String(spec.backoff ?? '1s')})`,
    );
  }
  return policy;
}
