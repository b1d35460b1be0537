import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { JsonSchema, JsonValue } from '../domain/vocabulary.js';
import { didYouMean } from './did-you-mean.js';
import { linearRegExp, unsupportedPattern } from './linear-regexp.js';
import { newAjv2020 } from './load-ajv.js';

/**
 * JSON Schema helpers for the schemas users write: workflow `inputs`, component `inputs` and
 * `outputs`. Draft 2020-12 through Ajv with ajv-formats; strict about unknown keywords and
 * formats (a typo in a schema is a load error, not a schema that accepts everything).
 */

const CACHE_LIMIT = 500;

/** The Ajv of user-written schemas; made on the first schema compiled (load-ajv.ts). */
function newAjv(useDefaults: boolean): Ajv2020 {
  return newAjv2020({
    // patterns run in linear time: a run's data can never make validation backtrack for seconds
    code: { regExp: linearRegExp },
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    useDefaults,
    logger: false,
  });
}

let validatingAjv: Ajv2020 | undefined;
let defaultingAjv: Ajv2020 | undefined;
const validating = (): Ajv2020 => (validatingAjv ??= newAjv(false));
const defaulting = (): Ajv2020 => (defaultingAjv ??= newAjv(true));
const validators = new Map<string, ValidateFunction>();
const defaulters = new Map<string, ValidateFunction>();

// Plans are often re-read from the store, so the same schema arrives as a new object each time:
// cache by content, and drop Ajv's own reference so schemas with an `$id` can be compiled again.
function compiled(ajvOf: () => Ajv2020, cache: Map<string, ValidateFunction>, schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const ajv = ajvOf();
  const copy = structuredClone(schema);
  const validate = ajv.compile(copy);
  if (typeof copy === 'object') ajv.removeSchema(copy);
  cache.set(key, validate);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return validate;
}

/** The cached Ajv validator of `schema` (errors in `.errors` after a failed call). */
export function validatorFor(schema: JsonSchema): ValidateFunction {
  return compiled(validating, validators, schema);
}

/**
 * A validator for `schema`: returns `undefined` when the value is valid, else every problem as
 * one line such as `/repo: must be string; /: must have required property 'ref'`. Compiled
 * validators are cached by schema content. Throws if the schema itself is invalid (compiled
 * plans only hold schemas that `schemaProblems` accepted).
 */
export function compileSchema(schema: JsonSchema): (value: unknown) => string | undefined {
  const validate = compiled(validating, validators, schema);
  return (value) => (validate(value) ? undefined : formatErrors(validate.errors ?? []));
}

/**
 * A copy of `value` with the `default`s of `schema` filled in where keys are missing (in
 * `properties`, recursively). The value is not otherwise changed and need not be valid.
 */
export function applyDefaults(schema: JsonSchema, value: JsonValue): JsonValue {
  const copy = structuredClone(value);
  compiled(defaulting, defaulters, schema)(copy);
  return copy;
}

/**
 * A copy of `schema` without its `required` lists, at every level (what partial values, such as
 * a component's interim outputs, are checked against). A property that happens to be named
 * `required` is kept: only a `required` whose value is a list is the keyword.
 */
export function withoutRequired(schema: JsonSchema): JsonSchema {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'required' && Array.isArray(value)) continue;
      out[key] = strip(value);
    }
    return out;
  };
  return strip(schema) as JsonSchema;
}

/** Ajv errors as `path: message`, joined with `; `. */
export function formatErrors(errors: readonly ErrorObject[]): string {
  const lines = errors.map((error) => `${error.instancePath || '/'}: ${errorMessage(error)}`);
  return [...new Set(lines)].join('; ');
}

/** One Ajv error's message, with the detail Ajv keeps in `params` (the extra key, the choices). */
export function errorMessage(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const message = error.message ?? error.keyword;
  if (error.keyword === 'additionalProperties') return `${message} (${JSON.stringify(params.additionalProperty)})`;
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return message;
}

/** A problem inside a user-written JSON Schema: where in the schema (path below it), and what. */
export interface SchemaProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** the problem is the key at `path` itself (an unknown keyword), not its value */
  readonly onKey?: boolean;
}

// draft 2020-12 keywords, for "did you mean" on an unknown one
const KEYWORDS = [
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'propertyNames',
  'items',
  'prefixItems',
  'contains',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minProperties',
  'maxProperties',
  'dependentRequired',
  'dependentSchemas',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  '$ref',
  '$defs',
  'default',
  'description',
  'title',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'unevaluatedProperties',
  'unevaluatedItems',
];

const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

/**
 * Everything wrong with a user-written JSON Schema: not draft 2020-12, not matching the
 * meta-schema, unknown keywords or formats, unresolvable `$ref`s, and `default`s that do not
 * match their own property schema. Empty when Ajv compiles it.
 */
export function schemaProblems(schema: JsonSchema): SchemaProblem[] {
  if (typeof schema === 'boolean') return [];
  if (schema.$schema !== undefined && schema.$schema !== DRAFT_2020 && schema.$schema !== `${DRAFT_2020}#`) {
    return [{ path: ['$schema'], message: `only JSON Schema draft 2020-12 is supported (${DRAFT_2020})` }];
  }
  const ajv = validating();
  if (!ajv.validateSchema(schema)) return metaSchemaProblems(schema, ajv.errors ?? []);
  try {
    compileSchema(schema);
  } catch (error) {
    return [compileProblem(schema, error instanceof Error ? error.message : String(error))];
  }
  return defaultProblems(schema, []);
}

function metaSchemaProblems(schema: Record<string, unknown>, errors: readonly ErrorObject[]): SchemaProblem[] {
  // the meta-schema reports one error per failed branch; keep the most telling one per place
  const byPath = new Map<string, ErrorObject>();
  for (const error of errors) {
    const seen = byPath.get(error.instancePath);
    if (seen === undefined || (seen.keyword !== 'enum' && error.keyword === 'enum'))
      byPath.set(error.instancePath, error);
  }
  return [...byPath.values()].map((error) => ({
    path: pointerToPath(schema, error.instancePath),
    message: `invalid JSON Schema: ${errorMessage(error)}`,
  }));
}

function compileProblem(schema: Record<string, unknown>, message: string): SchemaProblem {
  const pattern = findUnsupportedPattern(schema);
  if (pattern !== undefined) {
    return {
      path: pattern.path,
      message:
        `invalid JSON Schema: the pattern ${JSON.stringify(pattern.pattern)} is not supported (${pattern.reason}): ` +
        'patterns are matched in linear time (RE2 syntax), which has no look-around and no backreferences',
    };
  }
  const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
  if (keyword !== undefined) {
    const path = findKey(schema, keyword);
    const hint = didYouMean(keyword, KEYWORDS);
    return path === undefined
      ? { path: [], message: `invalid JSON Schema: unknown keyword "${keyword}"${hint}` }
      : { path, message: `invalid JSON Schema: unknown keyword "${keyword}"${hint}`, onKey: true };
  }
  const format = /unknown format "([^"]+)"/.exec(message)?.[1];
  if (format !== undefined) {
    return { path: findFormat(schema, format) ?? [], message: `invalid JSON Schema: unknown format "${format}"` };
  }
  return { path: [], message: `invalid JSON Schema: ${message}` };
}

function defaultProblems(schema: unknown, path: (string | number)[]): SchemaProblem[] {
  if (!isObject(schema)) return [];
  const problems: SchemaProblem[] = [];
  if ('default' in schema) {
    const { default: value, ...rest } = schema;
    try {
      const invalid = compileSchema(rest as JsonSchema)(value);
      if (invalid !== undefined)
        problems.push({ path: [...path, 'default'], message: `default does not match its schema: ${invalid}` });
    } catch {
      // a sub-schema that only compiles within its parent (a relative $ref): nothing to say
    }
  }
  const properties = schema.properties;
  if (isObject(properties)) {
    for (const [key, child] of Object.entries(properties))
      problems.push(...defaultProblems(child, [...path, 'properties', key]));
  }
  if (isObject(schema.items)) problems.push(...defaultProblems(schema.items, [...path, 'items']));
  return problems;
}

function findKey(node: unknown, key: string, path: (string | number)[] = []): (string | number)[] | undefined {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) {
      const found = findKey(item, key, [...path, index]);
      if (found) return found;
    }
  } else if (isObject(node)) {
    if (Object.hasOwn(node, key) && path.at(-1) !== 'properties') return [...path, key];
    for (const [name, child] of Object.entries(node)) {
      const found = findKey(child, key, [...path, name]);
      if (found) return found;
    }
  }
  return undefined;
}

// the first `pattern` value, or `patternProperties` key, that RE2 cannot run
function findUnsupportedPattern(
  node: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; pattern: string; reason: string } | undefined {
  if (!isObject(node) && !Array.isArray(node)) return undefined;
  if (isObject(node) && path.at(-1) !== 'properties') {
    const candidates: [string, (string | number)[]][] = [];
    if (typeof node.pattern === 'string') candidates.push([node.pattern, [...path, 'pattern']]);
    if (isObject(node.patternProperties)) {
      for (const key of Object.keys(node.patternProperties))
        candidates.push([key, [...path, 'patternProperties', key]]);
    }
    for (const [pattern, at] of candidates) {
      const reason = unsupportedPattern(pattern);
      if (reason !== undefined) return { path: at, pattern, reason };
    }
  }
  for (const [name, child] of Object.entries(node)) {
    const found = findUnsupportedPattern(child, [...path, Array.isArray(node) ? Number(name) : name]);
    if (found) return found;
  }
  return undefined;
}

function findFormat(node: unknown, format: string, path: (string | number)[] = []): (string | number)[] | undefined {
  if (!isObject(node) && !Array.isArray(node)) return undefined;
  if (isObject(node) && node.format === format) return [...path, 'format'];
  for (const [name, child] of Object.entries(node)) {
    const found = findFormat(child, format, [...path, Array.isArray(node) ? Number(name) : name]);
    if (found) return found;
  }
  return undefined;
}

// a JSON pointer into `root` as a field path: segments are list indexes only inside lists
function pointerToPath(root: unknown, pointer: string): (string | number)[] {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const segment = Array.isArray(node) ? Number(part) : part;
    path.push(segment);
    node = isObject(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
  }
  return path;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
