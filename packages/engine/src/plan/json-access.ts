import type { JsonValue } from '../domain/vocabulary.js';

/**
 * Defensive reads of a tree that may have failed its schema check: each returns `undefined`
 * for a value of the wrong type (that problem is already reported), so the semantic checks can
 * go on and report everything else.
 */
export type Json = JsonValue | undefined;
export type JsonRecord = { readonly [key: string]: JsonValue };

export function asRecord(value: Json): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

export function asArray(value: Json): readonly JsonValue[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

export function asString(value: Json): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: Json): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

export function asBoolean(value: Json): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/** The strings of a list (other items are skipped: the schema check reported them). */
export function asStrings(value: Json): string[] {
  return (asArray(value) ?? []).filter((item): item is string => typeof item === 'string');
}

/** Scalars as strings (`1` → `"1"`, `true` → `"true"`), for env values and such. */
export function scalarString(value: Json): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A copy of `object` without its `undefined` properties (plans are compared and stored as JSON). */
export function compact<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

/** Freeze a tree of plain objects and arrays, in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
