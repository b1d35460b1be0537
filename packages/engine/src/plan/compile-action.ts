import { dirname, resolve } from 'node:path';
import { PlanError } from '../domain/issue.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { isPathRef, isRegistryRef, type ComponentResolver } from './component-resolver.js';
import { compileCache } from './compile-cache.js';
import { compileMatrix } from './compile-matrix.js';
import type { ActionCall } from './compile-uses.js';
import { forAction, type ExpressionChecker } from './expression-check.js';
import type { ExpressionCompiler } from './expression-compiler.js';
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
      'missing "component" (a registered component or a path to a component.yaml), "run" (a shell script) or "uses" (a reusable workflow)',
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
  /** the stage's scope; the action's expressions are checked in it, bound to the action */
  readonly checker: ExpressionChecker;
  readonly stage: string;
  /** declaration order of every action, to list `needs` in file order */
  readonly order: ReadonlyMap<string, number>;
  /** the workflow's `passEnv` (each action inherits it) */
  readonly passEnv: readonly string[];
  /** the workflow's `failFast`, the default of a matrix's */
  readonly failFast: boolean;
  /** the workflow's env reads secrets (a cache key derived from the env would hash them) */
  readonly envReadsSecrets: boolean;
  /** the workflow the action calls, when it `uses:` one */
  readonly call?: ActionCall;
}

/**
 * Compile one action whose component (or called workflow) is known: matrix, templates,
 * condition, timeout, retries, cache.
 */
export function compileAction(
  action: JsonRecord,
  path: FieldPath,
  component: ResolvedComponent,
  ctx: ActionContext,
): PlanAction {
  const { expressions, issues } = ctx;
  const name = asString(action.name) ?? '';
  const matrix =
    action.matrix === undefined
      ? undefined
      : compileMatrix(action.matrix, [...path, 'matrix'], {
          issues,
          expressions,
          checker: forAction(ctx.checker, name),
          failFast: ctx.failFast,
        });
  // the action's own expressions also read its combination as `matrix.<key>`
  const checker = forAction(
    action.matrix === undefined ? ctx.checker : ctx.checker.withMatrix(matrix?.declaration ?? 'map<string, dyn>'),
    name,
  );
  const withValue: JsonValue = action.with === undefined ? {} : action.with;
  const data = expressions.template(withValue, [...path, 'with'], checker);
  const needs = new Set([...(matrix?.needs ?? []), ...data.needs]);
  let readsSecrets = ctx.envReadsSecrets || data.readsSecrets;
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
    readsSecrets ||= compiled.readsSecrets;
    env[key] = compiled.template;
  }
  const cache = compileCache(action.cache, [...path, 'cache'], { issues, expressions, checker, readsSecrets });
  for (const need of cache?.needs ?? []) needs.add(need);
  const strict = asBoolean(action.strict);
  const passEnv = [...new Set([...ctx.passEnv, ...asStrings(action.passEnv)])];
  const called = ctx.call?.called.plan;
  return compact({
    name,
    stage: ctx.stage,
    component: strict === undefined || strict === component.strict ? component : { ...component, strict },
    with: data.template,
    if: condition?.expr,
    timeoutMs:
      timeoutMs(action.timeout, [...path, 'timeout'], issues) ??
      (called ? (called.timeoutMs ?? PLAN_DEFAULTS.callTimeoutMs) : component.timeoutMs) ??
      PLAN_DEFAULTS.actionTimeoutMs,
    retries: retryPolicy(action.retries, [...path, 'retries'], issues),
    env,
    passEnv: passEnv.length > 0 && ctx.call === undefined ? passEnv : undefined,
    executor: asString(action.executor),
    needs: [...needs].sort((a, b) => (ctx.order.get(a) ?? 0) - (ctx.order.get(b) ?? 0)),
    statusCheck: condition?.readsStatus === true ? (true as const) : undefined,
    matrix: matrix?.matrix,
    uses: ctx.call ? { ref: ctx.call.ref, key: ctx.call.called.key } : undefined,
    cache: cache?.cache,
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
