import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { PilotageError } from '../domain/errors.js';
import { isJsonObject } from '../domain/vocabulary.js';
import { newAjv2020 } from '../plan/load-ajv.js';
import { packagePath } from '../package-folder.js';
import { toIssues } from './cdevent-issues.js';
import {
  CDEVENTS_SPEC_VERSION,
  CORE_TYPE_PREFIX,
  CUSTOM_TYPE_PREFIX,
  type CdeventIssue,
  type CdeventValidation,
} from './types.js';

/**
 * Validation of CDEvents against the official v0.5.1 JSON Schemas vendored in
 * `packages/engine/schemas/cdevents` (never fetched at run time). Schemas are read on first use
 * and each event type's validator is compiled the first time an event of that type is seen.
 */

/** Folder of the vendored schemas, in the package (package-folder.ts). */
export const CDEVENTS_SCHEMA_DIR = packagePath('schemas', 'cdevents');

/** A set of compiled validators. `createCdeventValidator` makes isolated ones (tests). */
export interface CdeventValidator {
  /** Validate a whole CDEvent document; see `validateCdevent`. */
  validate(event: unknown): CdeventValidation;
  /**
   * Register a schema that events may name in `context.schemaUri`; it may `$ref` the CDEvents
   * link schemas by their `$id`. Replaces an earlier schema registered under the same URI.
   * Throws a `ValidationError`-coded `PilotageError` when the schema does not compile.
   */
  registerCustomSchema(uri: string, schema: object): void;
  /** Is a schema registered under `uri` (with `registerCustomSchema`)? */
  hasCustomSchema(uri: string): boolean;
  /** Every core event type known, sorted. */
  knownTypes(): readonly string[];
}

interface Loaded {
  readonly ajv: Ajv2020;
  /** raw event schema by its single `context.type` enum value */
  readonly rawByType: ReadonlyMap<string, object>;
  readonly compiled: Map<string, ValidateFunction>;
  readonly custom: ValidateFunction;
  readonly byUri: Map<string, ValidateFunction>;
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** `type.enum[0]` of an event schema: schema `$id`s are not derivable from type strings. */
function typeOf(schema: Record<string, unknown>): string | undefined {
  let node: unknown = schema;
  for (const key of ['properties', 'context', 'properties', 'type', 'enum']) {
    node = isJsonObject(node) ? node[key] : undefined;
  }
  const value = Array.isArray(node) ? node[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function load(dir: string): Loaded {
  // made on first use (a run validates no CDEvent of its own: run-event-check.ts does that);
  // strict: false because testoutputpublished.json uses the non-standard `example` keyword
  const ajv = newAjv2020({ strict: false, allErrors: true });
  const linksDir = join(dir, 'links');
  for (const name of readdirSync(linksDir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    ajv.addSchema(readJson(join(linksDir, name)));
  }
  const rawByType = new Map<string, object>();
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const schema = readJson(join(dir, name));
    const type = typeOf(schema);
    if (type === undefined) {
      throw new PilotageError('CONFIG', `CDEvents schema ${name} has no context.type enum`);
    }
    rawByType.set(type, schema);
  }
  const custom = ajv.compile(readJson(join(dir, 'custom', 'schema.json')));
  return { ajv, rawByType, compiled: new Map(), custom, byUri: new Map() };
}

function knownTypeList(l: Loaded): string[] {
  return [...l.rawByType.keys()].sort();
}

/** Why a `dev.cdevents.*` type is not one we have a schema for, with the nearest known type. */
function unknownTypeMessage(l: Loaded, type: string): string {
  const unversioned = /^(.+)\.\d+\.\d+\.\d+$/.exec(type)?.[1];
  const same = unversioned === undefined ? undefined : knownTypeList(l).find((t) => t.startsWith(unversioned + '.'));
  if (unversioned !== undefined && same !== undefined) {
    return (
      `unsupported version of ${unversioned}: "${type}"; this engine validates ` +
      `"${same}" (CDEvents spec ${CDEVENTS_SPEC_VERSION})`
    );
  }
  return `unknown CDEvent type "${type}" (CDEvents spec ${CDEVENTS_SPEC_VERSION} core types, or dev.cdeventsx.* custom types)`;
}

/** Make an isolated validator over the schemas in `dir` (default: the vendored ones). */
export function createCdeventValidator(dir: string = CDEVENTS_SCHEMA_DIR): CdeventValidator {
  let loaded: Loaded | undefined;
  const get = (): Loaded => (loaded ??= load(dir));

  const validatorFor = (l: Loaded, type: string): ValidateFunction | undefined => {
    const cached = l.compiled.get(type);
    if (cached !== undefined) return cached;
    const raw = l.rawByType.get(type);
    if (raw === undefined) return undefined;
    const fn = l.ajv.compile(raw);
    l.compiled.set(type, fn);
    return fn;
  };

  return {
    validate(event: unknown): CdeventValidation {
      const l = get();
      if (!isJsonObject(event)) return { ok: false, errors: [{ path: '', message: 'must be a JSON object' }] };
      const context = event.context;
      if (!isJsonObject(context)) {
        const message = context === undefined ? 'is required' : 'must be object';
        return { ok: false, errors: [{ path: '/context', message }] };
      }
      const type = context.type;
      if (typeof type !== 'string') {
        const message = type === undefined ? 'is required' : 'must be string';
        return { ok: false, errors: [{ path: '/context/type', message }] };
      }
      let fn: ValidateFunction | undefined;
      if (type.startsWith(CUSTOM_TYPE_PREFIX)) fn = l.custom;
      else if (type.startsWith(CORE_TYPE_PREFIX)) fn = validatorFor(l, type);
      if (fn === undefined) {
        return { ok: false, errors: [{ path: '/context/type', message: unknownTypeMessage(l, type) }] };
      }
      const errors: CdeventIssue[] = [];
      if (!fn(event)) errors.push(...toIssues(fn.errors));
      const schemaUri = context.schemaUri;
      // Only schemas registered locally: a consumer must never fetch a URI named by a sender.
      const extra = typeof schemaUri === 'string' ? l.byUri.get(schemaUri) : undefined;
      if (extra !== undefined && !extra(event)) {
        errors.push(...toIssues(extra.errors, `(schema ${String(schemaUri)}) `));
      }
      return errors.length === 0 ? { ok: true, type } : { ok: false, errors };
    },

    registerCustomSchema(uri: string, schema: object): void {
      const l = get();
      const previous = l.byUri.get(uri);
      if (previous !== undefined) {
        l.ajv.removeSchema(previous.schema as object);
        l.byUri.delete(uri);
      }
      try {
        l.byUri.set(uri, l.ajv.compile(schema));
      } catch (cause) {
        throw new PilotageError('VALIDATION', `custom CDEvents schema ${uri} does not compile: ${String(cause)}`, {
          cause,
        });
      }
    },

    hasCustomSchema(uri: string): boolean {
      return get().byUri.has(uri);
    },

    knownTypes(): readonly string[] {
      return knownTypeList(get());
    },
  };
}

let shared: CdeventValidator | undefined;
const defaultValidator = (): CdeventValidator => (shared ??= createCdeventValidator());

/**
 * Validate a CDEvent document against the schema of its `context.type`: one of the 45 core
 * types of spec 0.5.1 (exact type string, version included), or the custom-event schema for
 * `dev.cdeventsx.*`; plus, when `context.schemaUri` names a schema registered with
 * `registerCustomSchema`, that schema too (unregistered URIs are not fetched). An unknown type
 * or an unsupported version is an error at `/context/type` naming it. Paths are JSON Pointers
 * to the offending key (a missing or unexpected key's own path).
 */
export function validateCdevent(event: unknown): CdeventValidation {
  return defaultValidator().validate(event);
}

/** Register, process-wide, a schema that events may name in `context.schemaUri`. */
export function registerCustomSchema(uri: string, schema: object): void {
  defaultValidator().registerCustomSchema(uri, schema);
}

/** Is a schema registered process-wide under `uri`? */
export function hasCustomSchema(uri: string): boolean {
  return defaultValidator().hasCustomSchema(uri);
}

/** Every core event type with a schema, sorted. */
export function knownCdeventTypes(): readonly string[] {
  return defaultValidator().knownTypes();
}

/**
 * Throw when an event we built ourselves is invalid: that is a bug in the builder, never
 * something to send. The error's code is `INTERNAL` and `details` holds the issues.
 */
export function assertValidCdevent(event: unknown): void {
  const result = validateCdevent(event);
  if (!result.ok) {
    const first = result.errors[0];
    throw new PilotageError(
      'INTERNAL',
      `built an invalid CDEvent (${first === undefined ? '?' : `${first.path}: ${first.message}`}); this is a bug in Pilotage`,
      { details: result.errors },
    );
  }
}
