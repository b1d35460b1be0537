import { readSourceFile } from '../plan-files/load.js';
import { ValidationError } from '../domain/errors.js';
import { parseJsonText, refuseForbiddenKeys } from '../domain/json-text.js';
import { isJsonObject, type JsonObject, type JsonSchema, type JsonValue } from '../domain/vocabulary.js';

/**
 * Build a run's event data from `--data JSON|@file` and `--input key=value` flags (inputs win).
 * A value is taken as a string unless the workflow's inputs schema declares that property
 * as number, integer, boolean, object or array, in which case it is parsed as JSON.
 */
export function parseRunData(
  options: { data?: string; inputs?: readonly string[] },
  schema: JsonSchema | undefined,
  readFile: (path: string) => string = readSourceFile,
): JsonObject {
  let base: JsonObject = {};
  if (options.data !== undefined) {
    const text = options.data.startsWith('@') ? readFile(options.data.slice(1)) : options.data;
    const parsed = parseJsonText(text, '--data');
    if (!isJsonObject(parsed as JsonValue)) throw new ValidationError('--data must be a JSON object');
    base = parsed as JsonObject;
  }
  const properties =
    typeof schema === 'object' && isJsonObject(schema.properties as JsonValue)
      ? (schema.properties as Record<string, JsonValue>)
      : {};
  for (const pair of options.inputs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--input "${pair}" must look like name=value`);
    const name = pair.slice(0, eq);
    refuseForbiddenKeys({ [name]: null }, '--input');
    const raw = pair.slice(eq + 1);
    const declared = properties[name];
    const type = isJsonObject(declared ?? null) ? (declared as JsonObject).type : undefined;
    if (type !== undefined && type !== 'string') {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw new ValidationError(`--input ${name}: expected ${String(type)} (as JSON), got "${raw}"`);
      }
      refuseForbiddenKeys(value, `--input ${name}`);
      base[name] = value as JsonValue;
    } else {
      base[name] = raw;
    }
  }
  return base;
}
