/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object: what event data usually is, and what outputs must be. */
export type JsonObject = { [key: string]: JsonValue };

/** Is `value` a plain object (not an array, not null)? Outputs must pass this. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
