import type { ParseResult } from '@marcbachmann/cel-js';
import { dynamicCelEnvironment, withRunStatus } from './cel-environment.js';
import { ValidationError } from '../domain/errors.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { fromCel, toCel } from './cel-value.js';
import type { Expression, ExpressionContext, RunStatus, Template } from './types.js';

const parsed = new Map<string, ParseResult>();
const PARSE_CACHE_LIMIT = 2000;
const converted = new WeakMap<object, Record<string, unknown>>();
const convertedParts = new WeakMap<object, unknown>();

/**
 * Variables for expressions outside actions: `{payload, headers}` for webhook trigger inputs,
 * `{event}` for CDEvent filters. Values are JSON-shaped data.
 */
export type ExpressionVariables = Readonly<Record<string, unknown>>;

/**
 * Render a template against a run's context: literals as written, a whole `${{ expr }}` as the
 * expression's JSON value, text with expressions as a string (non-string values are
 * JSON-encoded). Pure; `ctx` is read as immutable (its CEL form is cached per object). Throws ValidationError naming the expression's file position when an
 * expression fails (a missing key, a division by zero, a value with no JSON form).
 */
export function renderTemplate(template: Template, ctx: ExpressionContext | ExpressionVariables): JsonValue {
  const variables = celVariables(ctx);
  return render(template, variables);
}

/** The run status the status functions of a condition answer for, when `ctx` is a run's. */
function statusOf(ctx: ExpressionContext | ExpressionVariables): RunStatus | undefined {
  const run = (ctx as { run?: { status?: RunStatus } }).run;
  return run?.status;
}

/**
 * Evaluate a condition (`if:`, a CDEvent `filter`). Throws ValidationError when it fails or
 * its value is not a boolean.
 */
export function evaluateCondition(expression: Expression, ctx: ExpressionContext | ExpressionVariables): boolean {
  const value = withRunStatus(statusOf(ctx), () => evaluate(expression, celVariables(ctx)));
  if (typeof value !== 'boolean') {
    throw new ValidationError(
      `${expression.at}: the condition \`${expression.source}\` gave ${JSON.stringify(value)}, not true or false`,
    );
  }
  return value;
}

/** Evaluate one expression to JSON. Throws ValidationError naming its position on failure. */
export function evaluateExpression(expression: Expression, ctx: ExpressionContext | ExpressionVariables): JsonValue {
  return evaluate(expression, celVariables(ctx));
}

function render(template: Template, variables: Record<string, unknown>): JsonValue {
  switch (template.kind) {
    case 'literal':
      return template.value;
    case 'expression':
      return evaluate(template.expr, variables);
    case 'interpolation':
      return template.parts
        .map((part) => {
          if (typeof part === 'string') return part;
          const value = evaluate(part, variables);
          return typeof value === 'string' ? value : JSON.stringify(value);
        })
        .join('');
    case 'array':
      return template.items.map((item) => render(item, variables));
    case 'object': {
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of Object.entries(template.entries)) out[key] = render(item, variables);
      return out;
    }
  }
}

function evaluate(expression: Expression, variables: Record<string, unknown>): JsonValue {
  try {
    return fromCel(program(expression.source)(variables));
  } catch (error) {
    const reason = (error as { summary?: unknown }).summary ?? (error instanceof Error ? error.message : String(error));
    throw new ValidationError(`${expression.at}: cannot evaluate \`${expression.source}\`: ${String(reason)}`, {
      cause: error,
    });
  }
}

function program(source: string): ParseResult {
  let compiled = parsed.get(source);
  if (compiled === undefined) {
    compiled = dynamicCelEnvironment().parse(source);
    if (parsed.size >= PARSE_CACHE_LIMIT) parsed.delete(parsed.keys().next().value as string);
    parsed.set(source, compiled);
  }
  return compiled;
}

// The same context object is rendered for many templates of a run: convert it once. Contexts
// that share parts (the task runs of one matrix differ only in `matrix`) convert each part once.
function celVariables(ctx: object): Record<string, unknown> {
  let variables = converted.get(ctx);
  if (variables === undefined) {
    variables = {};
    for (const [name, value] of Object.entries(ctx)) variables[name] = celPart(value);
    converted.set(ctx, variables);
  }
  return variables;
}

function celPart(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return toCel(value);
  let part = convertedParts.get(value);
  if (part === undefined) {
    part = toCel(value);
    convertedParts.set(value, part);
  }
  return part;
}
