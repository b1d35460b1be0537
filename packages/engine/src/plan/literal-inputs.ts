import type { ErrorObject } from 'ajv';
import type { JsonSchema, JsonValue } from '../domain/vocabulary.js';
import { hasExpression } from './expression-text.js';
import { pathKey, type FieldPath } from './field-path.js';
import { errorMessage, validatorFor } from './schema.js';

/** A problem in the literal part of an action's `with:`: where below `with`, and what. */
export interface LiteralProblem {
  readonly path: FieldPath;
  readonly message: string;
}

// Checks that stay sound on an object or list whose contents hold expressions: they only look
// at which keys or how many items there are, or the node's own type, all fixed by the file.
const STRUCTURAL = new Set([
  'required',
  'additionalProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'minItems',
  'maxItems',
  'type',
  'dependentRequired',
]);
const COMBINATOR =
  /\/(anyOf|oneOf|not|if|then|else|contains|dependentSchemas|unevaluatedProperties|unevaluatedItems)(\/|$)/;

/**
 * Validate the parts of `with:` that are known when the workflow is loaded against the
 * component's `inputs` schema. A string holding `${{ }}` is unknown until run time: errors
 * about it are dropped, and so are errors about its ancestors unless they depend only on keys
 * and item counts (a missing required key, an extra key). The engine validates the rendered
 * event data again at run time.
 */
export function literalInputProblems(value: JsonValue, schema: JsonSchema): LiteralProblem[] {
  const unknown = new Set<string>();
  const probe = placeholders(value, [], unknown);
  const validate = validatorFor(schema);
  if (validate(probe)) return [];
  const problems: LiteralProblem[] = [];
  for (const error of validate.errors ?? []) {
    const path = pointerPath(probe, error.instancePath);
    if (!keep(error, path, unknown)) continue;
    problems.push({ path, message: errorMessage(error) });
  }
  return problems;
}

function keep(error: ErrorObject, path: FieldPath, unknown: ReadonlySet<string>): boolean {
  if (unknown.size === 0) return true;
  for (let depth = 0; depth <= path.length; depth++) {
    if (unknown.has(pathKey(path.slice(0, depth)))) return false;
  }
  const prefix = `${pathKey(path).slice(0, -1)},`;
  const holdsUnknown = path.length === 0 || [...unknown].some((key) => key.startsWith(prefix));
  if (!holdsUnknown) return !COMBINATOR.test(error.schemaPath);
  return STRUCTURAL.has(error.keyword) && !COMBINATOR.test(error.schemaPath);
}

function placeholders(value: JsonValue, path: FieldPath, unknown: Set<string>): JsonValue {
  if (typeof value === 'string' && hasExpression(value)) {
    unknown.add(pathKey(path));
    return null;
  }
  if (Array.isArray(value)) return value.map((item, index) => placeholders(item, [...path, index], unknown));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) out[key] = placeholders(item, [...path, key], unknown);
    return out;
  }
  return value;
}

function pointerPath(root: JsonValue, pointer: string): FieldPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node: JsonValue | undefined = root;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      path.push(Number(part));
      node = node[Number(part)];
    } else {
      path.push(part);
      node = node !== null && typeof node === 'object' ? node[part] : undefined;
    }
  }
  return path;
}
