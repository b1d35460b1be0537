import { ValidationError } from './errors.js';

/**
 * Keys refused in every JSON and YAML input: they name a JavaScript object's internals, and a
 * value copied under them by ordinary assignment changes how objects behave (prototype
 * pollution). No Pilotage file or payload needs them.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The path (keys and list indexes) to the first FORBIDDEN_KEYS key in `value`, depth first, or undefined. */
export function forbiddenKeyPath(value: unknown): (string | number)[] | undefined {
  // iterative: input depth is the sender's choice, the call stack is not
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: item, path } = stack.pop()!;
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push({ value: item[i], path: [...path, i] });
    } else if (typeof item === 'object' && item !== null) {
      const keys = Object.keys(item);
      const bad = keys.find((key) => FORBIDDEN_KEYS.has(key));
      if (bad !== undefined) return [...path, bad];
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push({ value: (item as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return undefined;
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

/** A ValidationError for a value holding a forbidden key, naming the field (`what` is its root). */
export function refuseForbiddenKeys(value: unknown, what: string): void {
  const path = forbiddenKeyPath(value);
  if (path === undefined) return;
  const field = jsonFieldPath(what, path);
  const message = forbiddenKeyMessage(path.at(-1)!);
  throw new ValidationError(`${field}: ${message}`, { details: [{ field, message }] });
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
