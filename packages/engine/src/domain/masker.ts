import { isJsonObject, type JsonValue } from './vocabulary.js';

/** What a masked secret reads as. */
export const MASK = '***';

/**
 * Replaces secret values with `***` in text and JSON. Built once per run from the secret values;
 * values shorter than 3 characters are not masked (they would mask half of every line).
 */
export class Masker {
  private readonly values: readonly string[];

  constructor(secrets: Iterable<string>) {
    this.values = [...new Set([...secrets].filter((v) => v.length >= 3))].sort((a, b) => b.length - a.length);
  }

  /** Does this masker have anything to mask? */
  get active(): boolean {
    return this.values.length > 0;
  }

  /** `text` with every secret value replaced. */
  text(text: string): string {
    let out = text;
    for (const value of this.values) if (out.includes(value)) out = out.split(value).join(MASK);
    return out;
  }

  /** A copy of `value` with secret values replaced in every string. */
  json<T extends JsonValue>(value: T): T {
    if (!this.active) return value;
    return this.walk(value) as T;
  }

  private walk(value: JsonValue): JsonValue {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (isJsonObject(value)) {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.walk(v);
      return out;
    }
    return value;
  }
}
