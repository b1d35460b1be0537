import type { JsonSchema } from '../domain/vocabulary.js';

/**
 * How JSON Schemas become CEL types for load-time checking.
 *
 * JSON integers are CEL `int` at run time; a JSON `number` may be an integer or not, so it is
 * `dyn`. Objects nested below the top level are `map<string, dyn>` (CEL object types would
 * reject `size()`, `in` and comparisons with map literals, which are fine at run time).
 * Anything the schema leaves open is `dyn`: the checker never rejects what could succeed.
 */

type SchemaObject = Record<string, unknown>;

/** The CEL type of values matching `schema`, as a type string (`string`, `list<int>`, `dyn`). */
export function celTypeOf(schema: JsonSchema | unknown): string {
  if (!isObject(schema)) return 'dyn';
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return literalType(schema.enum);
  if ('const' in schema) return literalType([schema.const]);
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'integer':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'array': {
      const items = celTypeOf(schema.items);
      return `list<${items}>`;
    }
    case 'object': {
      const values = isObject(schema.additionalProperties) ? celTypeOf(schema.additionalProperties) : 'dyn';
      return `map<string, ${values}>`;
    }
    default:
      return 'dyn';
  }
}

/**
 * The declared fields of an object schema when they are the only fields it allows for
 * expressions: it has `properties`, and `additionalProperties`/`patternProperties` do not open
 * it. Reading any other field is then a load error (a typo), which is the point. `undefined`
 * means "any field may exist".
 */
export function closedFields(schema: JsonSchema | undefined): Readonly<Record<string, unknown>> | undefined {
  if (!isObject(schema) || !isObject(schema.properties)) return undefined;
  if (schema.type !== undefined && schema.type !== 'object') return undefined;
  const extra = schema.additionalProperties;
  if (extra === true || isObject(extra) || schema.patternProperties !== undefined) return undefined;
  if (
    schema.allOf !== undefined ||
    schema.anyOf !== undefined ||
    schema.oneOf !== undefined ||
    schema.$ref !== undefined
  ) {
    return undefined;
  }
  return schema.properties;
}

/** The CEL object declaration of a closed object schema: field → CEL type string. */
export function celFields(fields: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(fields)) out[name] = celTypeOf(schema);
  return out;
}

/** The CEL type of a set of JSON values: `string`, `int` or `bool` when all are, else `dyn`. */
export function celTypeOfValues(values: readonly unknown[]): string {
  return values.length === 0 ? 'dyn' : literalType(values);
}

function literalType(values: readonly unknown[]): string {
  if (values.every((v) => typeof v === 'string')) return 'string';
  if (values.every((v) => Number.isInteger(v))) return 'int';
  if (values.every((v) => typeof v === 'boolean')) return 'bool';
  return 'dyn';
}

function isObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
