import { isDeepStrictEqual } from 'node:util';
import { didYouMean } from './did-you-mean.js';
import type { FieldPath } from './field-path.js';

type SchemaObject = { readonly [keyword: string]: unknown };

/** Receives each problem found: where, what was expected, and whether it is about the key. */
export type SchemaReporter = (path: FieldPath, message: string, onKey?: boolean) => void;

// Keywords the checker enforces. Anything else in the published schemas must be an annotation
// or a cross-field rule that the compiler checks in code (listed below); a keyword in neither
// list is a programming error, caught by the published-schema tests.
const ENFORCED = new Set([
  '$ref',
  'type',
  'const',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
]);
/** Annotations, and cross-field rules (`oneOf`, `anyOf`, `dependencies`, `if`) checked in code. */
export const CODE_CHECKED_KEYWORDS = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'definitions',
  'oneOf',
  'anyOf',
  'dependencies',
  'if',
  'then',
  'else',
  'not',
]);

/** Keywords this checker knows (enforced or deliberately left to code). */
export function isKnownKeyword(keyword: string): boolean {
  return ENFORCED.has(keyword) || CODE_CHECKED_KEYWORDS.has(keyword);
}

/**
 * Check a JSON value against one of Pilotage's own published schemas (a draft-07 subset:
 * the keywords in ENFORCED), reporting every problem with a message that says what was
 * expected, unknown keys with a "did you mean" when one is close. Returns whether the value
 * is valid. User-written JSON Schemas go through Ajv instead (`compileSchema`).
 */
export function checkSchema(value: unknown, schema: unknown, report: SchemaReporter, path: FieldPath = []): boolean {
  const root = schema as SchemaObject;
  return new Checker(root, report).check(value, root, path);
}

class Checker {
  constructor(
    private readonly root: SchemaObject,
    private readonly report: SchemaReporter,
  ) {}

  check(value: unknown, schema: unknown, path: FieldPath): boolean {
    if (schema === true || schema === undefined) return true;
    if (schema === false) {
      this.report(path, 'no value is allowed here');
      return false;
    }
    const node = this.resolve(schema as SchemaObject);
    const types = typesOf(node.type);
    if (types.length > 0 && !types.some((type) => hasType(value, type))) {
      // the root of a file that is not YAML at all is one long scalar: never echo it back
      const got = path.length === 0 ? `${kindOf(value)}; is this a YAML or JSON file?` : describe(value);
      this.report(path, `expected ${alternatives(types.map(typeName))}, got ${got}`);
      return false;
    }
    if ('const' in node && !isDeepStrictEqual(node.const, value)) {
      this.report(path, `expected ${JSON.stringify(node.const)}, got ${describe(value)}`);
      return false;
    }
    if (Array.isArray(node.enum) && !node.enum.some((allowed: unknown) => isDeepStrictEqual(allowed, value))) {
      const choices = (node.enum as unknown[]).map((choice) => JSON.stringify(choice)).join(', ');
      const hint = typeof value === 'string' ? didYouMean(value, node.enum.filter(isString)) : '';
      this.report(path, `expected one of ${choices}, got ${describe(value)}${hint}`);
      return false;
    }
    if (typeof value === 'string') return this.checkString(value, node, path);
    if (typeof value === 'number') return this.checkNumber(value, node, path);
    if (Array.isArray(value)) return this.checkArray(value, node, path);
    if (isObject(value)) return this.checkObject(value, node, path);
    return true;
  }

  private checkString(value: string, node: SchemaObject, path: FieldPath): boolean {
    if (typeof node.minLength === 'number' && value.length < node.minLength) {
      this.report(path, node.minLength === 1 ? 'must not be empty' : `expected at least ${node.minLength} characters`);
      return false;
    }
    if (typeof node.pattern === 'string' && !new RegExp(node.pattern, 'u').test(value)) {
      this.report(path, `expected ${expectation(node)}, got ${describe(value)}`);
      return false;
    }
    if (typeof node.maxLength === 'number' && value.length > node.maxLength) {
      this.report(path, `expected at most ${node.maxLength} characters, got ${value.length}`);
      return false;
    }
    return true;
  }

  private checkNumber(value: number, node: SchemaObject, path: FieldPath): boolean {
    if (typeof node.minimum === 'number' && value < node.minimum) {
      this.report(path, `expected a value of at least ${node.minimum}, got ${value}`);
      return false;
    }
    if (typeof node.maximum === 'number' && value > node.maximum) {
      this.report(path, `expected a value of at most ${node.maximum}, got ${value}`);
      return false;
    }
    return true;
  }

  private checkArray(value: readonly unknown[], node: SchemaObject, path: FieldPath): boolean {
    if (typeof node.minItems === 'number' && value.length < node.minItems) {
      this.report(path, `expected at least ${node.minItems} ${node.minItems === 1 ? 'item' : 'items'}, got none`);
      return false;
    }
    let valid = true;
    if (node.items !== undefined) {
      value.forEach((item, index) => {
        valid = this.check(item, node.items, [...path, index]) && valid;
      });
    }
    return valid;
  }

  private checkObject(value: Record<string, unknown>, node: SchemaObject, path: FieldPath): boolean {
    let valid = true;
    const properties = (node.properties ?? {}) as Record<string, unknown>;
    const known = Object.keys(properties);
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, key];
      if (Object.hasOwn(properties, key)) {
        valid = this.check(child, properties[key], childPath) && valid;
        continue;
      }
      if (node.propertyNames !== undefined) {
        const names = this.resolve(node.propertyNames as SchemaObject);
        if (typeof names.pattern === 'string' && !new RegExp(names.pattern, 'u').test(key)) {
          this.report(childPath, `invalid key "${key}": expected ${expectation(names)}`, true);
          valid = false;
          continue;
        }
      }
      if (node.additionalProperties === false) {
        this.report(childPath, unknownKey(key, known), true);
        valid = false;
      } else {
        valid = this.check(child, node.additionalProperties, childPath) && valid;
      }
    }
    if (Array.isArray(node.required)) {
      for (const key of node.required as string[]) {
        if (!Object.hasOwn(value, key)) {
          this.report(path, `missing required key "${key}"`);
          valid = false;
        }
      }
    }
    const count = Object.keys(value).length;
    if (node.minProperties === 1 && node.maxProperties === 1 && count !== 1) {
      const got = count === 0 ? 'none' : `${count}: ${Object.keys(value).join(', ')}`;
      this.report(path, `expected exactly one of ${known.join(', ')}, got ${got}`);
      valid = false;
    } else if (typeof node.minProperties === 'number' && count < node.minProperties) {
      this.report(path, `expected at least ${node.minProperties} keys`);
      valid = false;
    } else if (typeof node.maxProperties === 'number' && count > node.maxProperties) {
      this.report(path, `expected at most ${node.maxProperties} keys`);
      valid = false;
    }
    return valid;
  }

  private resolve(node: SchemaObject): SchemaObject {
    let current = node;
    // `$ref` siblings are ignored by draft-07 validators: follow the reference only
    for (let hops = 0; typeof current.$ref === 'string'; hops++) {
      const ref = current.$ref;
      if (!ref.startsWith('#/') || hops > 16) throw new Error(`unsupported $ref ${ref} in a published schema`);
      let target: unknown = this.root;
      for (const part of ref.slice(2).split('/')) target = (target as SchemaObject)[part];
      if (!isObject(target)) throw new Error(`dangling $ref ${ref} in a published schema`);
      current = target;
    }
    return current;
  }
}

function unknownKey(key: string, known: readonly string[]): string {
  const hint = didYouMean(key, known);
  if (hint !== '') return `unknown key "${key}"${hint}`;
  if (known.length === 0) return `unknown key "${key}": no keys are allowed here`;
  return `unknown key "${key}"; expected one of: ${known.join(', ')}`;
}

function expectation(node: SchemaObject): string {
  return typeof node.description === 'string' ? node.description : `a string matching ${String(node.pattern)}`;
}

function typesOf(type: unknown): readonly string[] {
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter(isString) : [];
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      throw new Error(`unsupported type ${type} in a published schema`);
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'nothing',
  array: 'a list',
  object: 'a mapping',
};

function alternatives(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  // "true or false" reads badly inside a list of alternatives
  const named = names.map((name) => (name === TYPE_NAMES.boolean ? 'a boolean' : name));
  return `${named.slice(0, -1).join(', ')} or ${named.at(-1) ?? ''}`;
}

function typeName(type: string): string {
  return TYPE_NAMES[type] ?? type;
}

/** A short, quoted description of a value for messages: `"abc"`, `3`, `a list`, `nothing`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/** What kind of value it is, without any of its content: `text`, `a number`, `a list`. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true or false';
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}
