import { celJs, celValues } from './on-first-use.js';
import type { JsonValue } from '../domain/vocabulary.js';

/**
 * JSON → CEL: integral numbers become `int` (bigint), other numbers `double`; objects and lists
 * are copied. This is the rule the load-time types assume (`celTypeOf`).
 */
export function toCel(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = toCel(child);
    return out;
  }
  return value;
}

/** Why a CEL result has no JSON form. */
export class NotJsonError extends Error {}

/**
 * CEL → JSON: `int`/`uint` become numbers (an error past 2^53, where JSON readers lose
 * digits), maps become objects, timestamps RFC 3339 strings, durations `"90s"`, bytes base64
 * (the protobuf JSON mapping CEL itself uses), an empty optional `null`. NaN and infinities
 * have no JSON form and are errors.
 */
export function fromCel(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      return safeNumber(value);
    case 'number':
      if (!Number.isFinite(value)) throw new NotJsonError(`${value} has no JSON form`);
      return value;
    default:
      break;
  }
  if (Array.isArray(value)) return value.map(fromCel);
  if (isPlainObject(value)) {
    const out: Record<string, JsonValue> = {};
    for (const [key, child] of Object.entries(value)) out[key] = fromCel(child);
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Map) {
    const out: Record<string, JsonValue> = {};
    for (const [key, child] of value) out[String(key)] = fromCel(child);
    return out;
  }
  // CEL's own classes last: what reaches here came from an evaluation, which loaded CEL already
  const { UnsignedInt, Duration } = celValues();
  if (value instanceof UnsignedInt) return safeNumber(value.value);
  if (value instanceof Duration) return value.toString();
  if (value instanceof celJs().Optional) return value.hasValue() ? fromCel(value.value()) : null;
  throw new NotJsonError(`a value of type ${Object.prototype.toString.call(value)} has no JSON form`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function safeNumber(value: bigint): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new NotJsonError(`${value} is too large for JSON (more than 2^53)`);
  return number;
}
