import { dirname, resolve } from 'node:path';
import { parseDurationMs } from '../domain/duration.js';
import type { JsonSchema } from '../domain/vocabulary.js';
import { componentJsonSchema } from './component-schema.js';
import type { FieldPath } from './field-path.js';
import { IssueList } from './issue-list.js';
import {
  asArray,
  asBoolean,
  asNumber,
  asRecord,
  asString,
  compact,
  deepFreeze,
  scalarString,
  type Json,
  type JsonRecord,
} from './json-access.js';
import { checkSchema } from './schema-check.js';
import { schemaProblems } from './schema.js';
import { parseSource } from './source-doc.js';
import type { KubernetesSpec, PullPolicy, ResolvedComponent, ResourceSpec, VolumeSpec } from './types.js';

/**
 * Compile the text of a `component.yaml` (YAML or JSON) into a ResolvedComponent, frozen.
 * `file` names the file in messages; `dir` is its absolute folder (against which the local
 * executor resolves a `./` in `command[0]`). Throws PlanError listing every issue: syntax,
 * unknown keys (with "did you mean"), wrong types, invalid `inputs`/`outputs` JSON Schemas,
 * neither `image` nor `command`.
 */
export function parseComponent(text: string, file: string): ResolvedComponent {
  const { value, source, issues: readIssues } = parseSource(text, file);
  const issues = new IssueList(source);
  issues.add(...readIssues);
  if (value === undefined) issues.throwIfAny();
  if (value === null)
    issues.at([], 'the file is empty: expected a component (apiVersion, kind, name, version, image or command)');
  else checkSchema(value, componentJsonSchema, issues.reporter());
  const component = buildComponent(asRecord(value), file, issues);
  issues.throwIfAny();
  return deepFreeze(component);
}

function buildComponent(root: JsonRecord | undefined, file: string, issues: IssueList): ResolvedComponent {
  const doc = root ?? {};
  if (root !== undefined && doc.image === undefined && doc.command === undefined) {
    issues.at([], 'a component needs an image (container executors) or a command (local executor), or both');
  }
  const inputs = userSchema(doc.inputs, ['inputs'], issues);
  const outputs = userSchema(doc.outputs, ['outputs'], issues);
  return compact({
    name: asString(doc.name) ?? '',
    version: asString(doc.version) ?? '',
    description: asString(doc.description),
    image: asString(doc.image),
    pullPolicy: asString(doc.pullPolicy) as PullPolicy | undefined,
    command: strings(doc.command),
    args: strings(doc.args),
    dir: resolve(dirname(file)),
    workingDir: asString(doc.workingDir),
    user: scalarString(doc.user),
    strict: asBoolean(doc.strict) ?? false,
    endpoint: endpoint(doc.endpoint),
    inputs,
    outputs,
    env: stringMap(doc.env),
    timeoutMs: timeoutMs(doc.timeout, ['timeout'], issues),
    resources: resources(doc.resources),
    volumes: volumes(doc.volumes, issues),
    kubernetes: kubernetes(doc.kubernetes),
  });
}

/**
 * A user-written JSON Schema at `path`, checked with Ajv; problems are reported at their exact
 * place inside it. Returns the schema when it is one (even invalid: the issues stop the build).
 */
export function userSchema(value: Json, path: FieldPath, issues: IssueList): JsonSchema | undefined {
  if (typeof value === 'boolean') return value;
  const schema = asRecord(value);
  if (schema === undefined) return undefined;
  for (const problem of schemaProblems(schema as JsonSchema)) {
    issues.at([...path, ...problem.path], problem.message, { onKey: problem.onKey ?? false });
  }
  return schema as JsonSchema;
}

/** A duration in ms, or undefined when absent or invalid (already reported by the schema check). */
export function durationMs(value: Json): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseDurationMs(value);
  } catch {
    return undefined;
  }
}

/**
 * A timeout in ms (absent: undefined). Zero is reported at `path`: it would end every attempt
 * at once, and "no timeout" is written by leaving the key out.
 */
export function timeoutMs(value: Json, path: FieldPath, issues: IssueList): number | undefined {
  const ms = durationMs(value);
  if (ms === 0) issues.at(path, 'a timeout must be longer than 0 (leave it out for the default)');
  return ms;
}

/** A map of scalars as strings (`env:`), dropping what is not a scalar. */
export function stringMap(value: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(asRecord(value) ?? {})) {
    const text = scalarString(item);
    if (text !== undefined) out[key] = text;
  }
  return out;
}

function strings(value: Json): string[] | undefined {
  const list = asArray(value);
  return list?.filter((item): item is string => typeof item === 'string');
}

function endpoint(value: Json): ResolvedComponent['endpoint'] {
  const spec = asRecord(value);
  const port = asNumber(spec?.port);
  if (spec === undefined || port === undefined) return undefined;
  return { port, path: asString(spec.path) ?? '/' };
}

function resources(value: Json): ResourceSpec | undefined {
  const spec = asRecord(value);
  if (spec === undefined) return undefined;
  return compact({ cpu: scalarString(spec.cpu), memory: scalarString(spec.memory) });
}

function volumes(value: Json, issues: IssueList): VolumeSpec[] {
  const out: VolumeSpec[] = [];
  const seen = new Set<string>();
  for (const [index, item] of (asArray(value) ?? []).entries()) {
    const spec = asRecord(item);
    const name = asString(spec?.name);
    const mountPath = asString(spec?.mountPath);
    if (spec === undefined || name === undefined || mountPath === undefined) continue;
    if (seen.has(name)) issues.at(['volumes', index, 'name'], `duplicate volume name "${name}"`);
    seen.add(name);
    const initialData = asRecord(spec.initialData);
    out.push(
      compact({
        name,
        mountPath,
        readOnly: asBoolean(spec.readOnly),
        initialData: initialData === undefined ? undefined : stringMap(initialData),
      }),
    );
  }
  return out;
}

/** The `kubernetes:` block, already checked against kubernetesJsonSchema: copied as is. */
function kubernetes(value: Json): KubernetesSpec | undefined {
  const spec = asRecord(value);
  return spec === undefined ? undefined : (structuredClone(spec) as KubernetesSpec);
}
