import type { ErrorObject } from 'ajv';
import { ValidationError } from '../domain/errors.js';
import { refuseForbiddenKeys } from '../domain/json-text.js';
import { isJsonObject, type JsonObject, type JsonSchema, type JsonValue } from '../domain/vocabulary.js';
import { applyDefaults, validatorFor } from '../plan/schema.js';
import { invalidFields, pointerKeys, type FieldProblem } from './error-reply.js';

/**
 * The event data of a run started through the API: `data` (an object) with `inputs` over it,
 * where `inputs` are `name → text` pairs as a form or `pilotage run --input` gives them: a text is
 * parsed as JSON when the workflow's `inputs` schema declares that property as anything but a
 * string. Then the whole is checked against the schema (defaults applied first). Throws
 * ValidationError whose details name each field: `body.inputs.count`, `body.data.repo`.
 */
export function runDataFromBody(
  schema: JsonSchema | undefined,
  data: JsonObject | undefined,
  inputs: Readonly<Record<string, string>> | undefined,
): JsonObject {
  const merged: JsonObject = { ...(data ?? {}) };
  const problems: FieldProblem[] = [];
  const properties =
    typeof schema === 'object' && isJsonObject((schema.properties ?? null) as JsonValue)
      ? (schema.properties as Record<string, JsonValue>)
      : {};
  for (const [name, text] of Object.entries(inputs ?? {})) {
    const declared = properties[name];
    const type = isJsonObject(declared ?? null) ? (declared as JsonObject).type : undefined;
    if (type === undefined || type === 'string') {
      merged[name] = text;
      continue;
    }
    try {
      const value = JSON.parse(text) as JsonValue;
      refuseForbiddenKeys(value, `body.inputs.${name}`);
      merged[name] = value;
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      problems.push({ field: `body.inputs.${name}`, message: `must be ${String(type)} (as JSON), got "${text}"` });
    }
  }
  if (problems.length === 0 && schema !== undefined) {
    const fromInputs = new Set(Object.keys(inputs ?? {}));
    problems.push(
      ...dataProblems(schema, merged).map((p) => {
        const top = p.field.split('.')[0] ?? '';
        return { ...p, field: `body.${fromInputs.has(top) ? 'inputs' : 'data'}${p.field === '' ? '' : `.${p.field}`}` };
      }),
    );
  }
  if (problems.length > 0) throw invalidFields(problems);
  return merged;
}

/** Problems of `data` against `schema` (defaults applied), each with a dotted path into the data. */
function dataProblems(schema: JsonSchema, data: JsonObject): FieldProblem[] {
  const validate = validatorFor(schema);
  if (validate(applyDefaults(schema, data))) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => {
    const path = pointerKeys(e.instancePath);
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') path.push(e.params.missingProperty);
    if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path.push(e.params.additionalProperty);
    }
    return { field: path.join('.'), message: e.message ?? 'is invalid' };
  });
}
