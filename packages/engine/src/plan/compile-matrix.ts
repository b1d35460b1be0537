import type { JsonValue } from '../domain/vocabulary.js';
import { celTypeOfValues } from './cel-types.js';
import type { ExpressionCompiler, ScopedChecker } from './expression-compiler.js';
import { splitExpressions } from './expression-text.js';
import type { FieldPath } from './field-path.js';
import type { IssueList } from './issue-list.js';
import { asBoolean, asNumber, asRecord, type Json } from './json-access.js';
import { expandMatrix, matrixKeys, type Combination } from './matrix.js';
import { containsExpression } from './template.js';
import type { PlanMatrix } from './types.js';

/** A compiled `matrix:` and what the action's own expressions may read of it. */
export interface CompiledMatrix {
  readonly matrix: PlanMatrix;
  /** the CEL declaration of `matrix`: key → type, or an open map when the keys are not known */
  readonly declaration: string | Readonly<Record<string, string>>;
  /** the actions its expressions read */
  readonly needs: ReadonlySet<string>;
}

const NO_SECRETS = 'matrix values name the task runs and are shown everywhere';

/**
 * Compile an action's `matrix:`. A matrix without expressions is expanded now (too many
 * combinations, an empty axis or two equal combinations are load errors at their place); one
 * with expressions (in `checker`'s scope, secrets refused) is kept as a template and expanded
 * when its stage starts. Each axis, and `include`/`exclude`, is a list or one whole `${{ }}`
 * giving a list. Returns undefined when the value is not a mapping (already reported).
 */
export function compileMatrix(
  value: Json,
  path: FieldPath,
  ctx: {
    readonly issues: IssueList;
    readonly expressions: ExpressionCompiler;
    readonly checker: ScopedChecker;
    /** the workflow's failFast: the default of the matrix's */
    readonly failFast: boolean;
  },
): CompiledMatrix | undefined {
  const record = asRecord(value);
  if (record === undefined) return undefined;
  const { maxParallel, failFast, ...body } = record;
  const options = {
    ...(asNumber(maxParallel) === undefined ? {} : { maxParallel: asNumber(maxParallel) }),
    failFast: asBoolean(failFast) ?? ctx.failFast,
  };
  if (!containsExpression(body)) {
    const expanded = expandMatrix(body);
    if ('problems' in expanded) {
      for (const problem of expanded.problems) ctx.issues.at([...path, ...problem.path], problem.message);
      return undefined;
    }
    return {
      matrix: { combinations: expanded.combinations, ...options },
      declaration: literalDeclaration(expanded.combinations),
      needs: new Set(),
    };
  }
  for (const [key, item] of Object.entries(body)) {
    if (typeof item === 'string' && !isWholeExpression(item)) {
      ctx.issues.at(
        [...path, key],
        `expected a list, or one \${{ }} expression giving a list (${key === 'include' || key === 'exclude' ? 'of mappings' : 'of values'})`,
      );
    }
  }
  const compiled = ctx.expressions.template(body, path, ctx.checker, NO_SECRETS);
  return {
    matrix: { template: compiled.template, ...options },
    declaration: templateDeclaration(body),
    needs: compiled.needs,
  };
}

/** `matrix.<key>` types of a literal matrix: a key some combination lacks reads as null (`dyn`). */
function literalDeclaration(combinations: readonly Combination[]): Record<string, string> {
  const declaration: Record<string, string> = {};
  for (const key of matrixKeys(combinations)) {
    const everywhere = combinations.every((combination) => Object.hasOwn(combination, key));
    declaration[key] = everywhere ? celTypeOfValues(combinations.map((combination) => combination[key])) : 'dyn';
  }
  return declaration;
}

/** `matrix.<key>` types of a matrix with expressions, from what is literal in it. */
function templateDeclaration(body: Readonly<Record<string, JsonValue>>): string | Record<string, string> {
  const { include, exclude: _exclude, ...axes } = body;
  // keys an include expression adds are unknown until run time
  if (typeof include === 'string') return 'map<string, dyn>';
  const declaration: Record<string, string> = {};
  for (const [key, values] of Object.entries(axes)) {
    declaration[key] = Array.isArray(values) && !containsExpression(values) ? celTypeOfValues(values) : 'dyn';
  }
  for (const entry of Array.isArray(include) ? include : []) {
    for (const key of Object.keys(asRecord(entry) ?? {})) declaration[key] ??= 'dyn';
  }
  return declaration;
}

function isWholeExpression(text: string): boolean {
  const segments = splitExpressions(text);
  return Array.isArray(segments) && segments.length === 1 && segments[0]?.kind === 'expression';
}
