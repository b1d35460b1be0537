import { ValidationError } from './errors.js';

/**
 * Keys refused in every JSON and YAML input: they name a JavaScript object's internals, and a
 * value copied under them by ordinary assignment changes how objects behave (prototype
 * pollution). No Pilotage file or payload needs them.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The deepest nesting of objects and lists accepted in JSON input (API bodies, callbacks,
 * CDEvents, webhook payloads, `--data` files): a value inside 100 levels of `{` and `[` is
 * refused with an error naming this limit. Deeper input served no one and overflowed the stack
 * of code that copies or prints JSON recursively (5,000 levels under the 1 MiB body limit
 * answered 500). Documented in docs/server.md.
 */
export const MAX_JSON_DEPTH = 100;

/** The path (keys and list indexes) to the first FORBIDDEN_KEYS key in `value`, depth first, or undefined. */
export function forbiddenKeyPath(value: unknown): (string | number)[] | undefined {
  const problem = unsafeJsonProblem(value, Infinity);
  return problem?.kind === 'key' ? problem.path : undefined;
}

/** What makes a JSON value unsafe to take in: a forbidden key, or nesting past the limit. */
export interface UnsafeJson {
  readonly kind: 'key' | 'depth';
  /** to the forbidden key, or to the first value past the limit (its first MAX_JSON_DEPTH steps) */
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * The first problem of `value` as input, depth first: a FORBIDDEN_KEYS key, or a value nested
 * deeper than `maxDepth` objects and lists. Iterative, so any depth is checked without
 * overflowing the stack (V8's JSON.parse is iterative too: a parsed value may be 100,000 deep).
 */
export function unsafeJsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): UnsafeJson | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: item, path } = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (path.length >= maxDepth) {
      return { kind: 'depth', path, message: depthMessage(maxDepth) };
    }
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push({ value: item[i], path: [...path, i] });
    } else {
      const keys = Object.keys(item);
      const bad = keys.find((key) => FORBIDDEN_KEYS.has(key));
      if (bad !== undefined) return { kind: 'key', path: [...path, bad], message: forbiddenKeyMessage(bad) };
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push({ value: (item as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return undefined;
}

/**
 * Whether JSON `text` opens more than `maxDepth` objects and lists inside each other, read
 * without parsing (strings skipped): for inputs that a library parses before Pilotage sees the
 * value (CloudEvents). Linear in the text, no recursion.
 */
export function jsonTextTooDeep(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/** What is wrong with JSON nested too deep, naming the limit. */
export function depthMessage(maxDepth = MAX_JSON_DEPTH): string {
  return `nests objects and lists deeper than ${maxDepth} levels, the limit for JSON input`;
}

/** What is wrong with a forbidden key, for messages. */
export function forbiddenKeyMessage(key: string | number): string {
  return `the key "${String(key)}" is not allowed (it names a JavaScript object's internals); rename it`;
}

/** `prefix` followed by `path` as users read it: `body.data.items[0]["a b"]`. */
export function jsonFieldPath(prefix: string, path: readonly (string | number)[]): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/**
 * A ValidationError (400) for a value holding a forbidden key, naming the field (`what` is its
 * root), or nested deeper than MAX_JSON_DEPTH, naming the limit. Every JSON input goes through it.
 */
export function refuseForbiddenKeys(value: unknown, what: string): void {
  const problem = unsafeJsonProblem(value);
  if (problem === undefined) return;
  // a path past the depth limit is 100 steps long: name the root only
  const field = problem.kind === 'depth' ? what : jsonFieldPath(what, problem.path);
  throw new ValidationError(`${field}: ${problem.message}`, { details: [{ field, message: problem.message }] });
}

/**
 * Parse JSON `text` (named `what` in messages: `--data`, `the webhook body`) and refuse
 * forbidden keys. A syntax error says where (line and column, when the parser tells), never
 * quoting the text: it may be a file that was never meant to be shown.
 */
export function parseJsonText(text: string, what: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const message = `is not valid JSON${syntaxPosition(error, text)}`;
    throw new ValidationError(`${what} ${message}`, { details: [{ field: what, message }] });
  }
  refuseForbiddenKeys(parsed, what);
  return parsed;
}

/** ` (line L, column C)` from a JSON.parse error that gives a position, else ''. */
export function syntaxPosition(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : '';
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn !== null) return ` (line ${lineColumn[1]}, column ${lineColumn[2]})`;
  const position = /at position (\d+)/.exec(message);
  if (position === null) return /end of JSON input/.test(message) ? ' (it ends too early)' : '';
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}
