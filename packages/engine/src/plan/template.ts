import { dynamicCelEnvironment } from './cel-environment.js';
import { celJs } from './on-first-use.js';
import { ValidationError } from '../domain/errors.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { hasExpression, splitExpressions, type SplitError } from './expression-text.js';
import type { FieldPath } from './field-path.js';
import type { Expression, Template } from './types.js';

/** An expression found while building a template: what, where in the tree, where in its string. */
export interface FoundExpression {
  readonly expr: Expression;
  readonly path: FieldPath;
  /** offset of the CEL source in the string value */
  readonly sourceStart: number;
  /** offset of `${{` in the string value */
  readonly start: number;
  /** the whole string value it was written in */
  readonly text: string;
}

/** Gives an expression its `at` (`file:line:column`) from where it was written. */
export type ExpressionLocator = (path: FieldPath, text: string, start: number) => string;

/** A string that could not be split, and where. */
export interface TemplateProblem {
  readonly path: FieldPath;
  readonly text: string;
  readonly error: SplitError;
}

/**
 * Turn a JSON value into a Template, recording every expression it holds (into `found`) and
 * every malformed `${{` (into `problems`). Values without expressions stay one literal, so
 * rendering them is free.
 */
export function buildTemplate(
  value: JsonValue,
  path: FieldPath,
  locate: ExpressionLocator,
  found: FoundExpression[],
  problems: TemplateProblem[],
): Template {
  if (!containsExpression(value)) return { kind: 'literal', value };
  if (typeof value === 'string') {
    const segments = splitExpressions(value);
    if (!Array.isArray(segments)) {
      problems.push({ path, text: value, error: segments });
      return { kind: 'literal', value };
    }
    const parts = segments.map((segment) => {
      if (segment.kind === 'text') return segment.text;
      const expr: Expression = { source: segment.source, at: locate(path, value, segment.start) };
      found.push({ expr, path, sourceStart: segment.sourceStart, start: segment.start, text: value });
      return expr;
    });
    const [only] = parts;
    if (parts.length === 1 && only !== undefined && typeof only !== 'string') return { kind: 'expression', expr: only };
    return { kind: 'interpolation', parts };
  }
  if (Array.isArray(value)) {
    return {
      kind: 'array',
      items: value.map((item, index) => buildTemplate(item, [...path, index], locate, found, problems)),
    };
  }
  const entries: Record<string, Template> = {};
  for (const [key, item] of Object.entries(value as Record<string, JsonValue>)) {
    entries[key] = buildTemplate(item, [...path, key], locate, found, problems);
  }
  return { kind: 'object', entries };
}

/** Does the value hold `${{` anywhere? */
export function containsExpression(value: JsonValue): boolean {
  if (typeof value === 'string') return hasExpression(value);
  if (Array.isArray(value)) return value.some(containsExpression);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsExpression);
  return false;
}

/**
 * Compile a JSON value into a Template outside a workflow file (an ad-hoc template from the
 * CLI or API). Every expression gets `at` as its position. Expressions are parsed, not
 * type-checked (no scope is known): throws ValidationError on a malformed `${{` or a CEL
 * syntax error.
 */
export function compileTemplate(value: JsonValue, at = '<template>'): Template {
  const found: FoundExpression[] = [];
  const problems: TemplateProblem[] = [];
  const template = buildTemplate(value, [], () => at, found, problems);
  const [problem] = problems;
  if (problem) throw new ValidationError(`${at}: ${problem.error.message}`);
  for (const { expr } of found) {
    try {
      dynamicCelEnvironment().parse(expr.source);
    } catch (error) {
      if (error instanceof celJs().ParseError)
        throw new ValidationError(`${at}: invalid expression \`${expr.source}\`: ${error.summary}`);
      throw error;
    }
  }
  return template;
}
