import { isJsonObject, type JsonValue } from './vocabulary.js';

/** What a masked secret reads as. */
export const MASK = '***';

/** Secrets (and each line of a multi-line one) shorter than this are not masked: they would mask half of every line. */
export const MIN_SECRET_LENGTH = 3;

/** Encoded forms shorter than this are not masked (a 2-character base64 run is everywhere). */
const MIN_ENCODED_LENGTH = 4;

/**
 * Every form of `secret` that the masker replaces, as GitHub Actions' runner does:
 * - the value itself, and each line of a multi-line value (`\r` dropped), so a secret printed
 *   one line at a time is still masked;
 * - its URL-encoded forms (`encodeURIComponent`, and form encoding with `+` for spaces);
 * - its JSON string form (escaped quotes, backslashes, control characters, without the quotes);
 * - its base64 forms, standard and URL-safe alphabets, at each of the three byte alignments it
 *   may have inside a longer encoded text: the characters that depend on the neighbouring bytes
 *   are left out, so the secret is found inside `base64("user:" + secret)` too.
 * Pure.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>();
  const add = (form: string, min: number): void => {
    if (form.length >= min) forms.add(form);
  };
  add(secret, MIN_SECRET_LENGTH);
  if (/[\r\n]/.test(secret)) {
    for (const line of secret.split(/\r?\n|\r/)) add(line, MIN_SECRET_LENGTH);
  }
  if (secret.length < MIN_SECRET_LENGTH) return [...forms];
  add(encodeURIComponent(secret), MIN_ENCODED_LENGTH);
  add(encodeURIComponent(secret).replace(/%20/g, '+'), MIN_ENCODED_LENGTH);
  add(JSON.stringify(secret).slice(1, -1), MIN_ENCODED_LENGTH);
  for (const form of base64Forms(secret)) {
    add(form, MIN_ENCODED_LENGTH);
    add(form.replace(/\+/g, '-').replace(/\//g, '_'), MIN_ENCODED_LENGTH);
  }
  return [...forms];
}

/**
 * The base64 characters of `secret` that are the same wherever it sits in a longer byte string:
 * encoded after 0, 1 or 2 leading bytes, minus the leading characters that hold bits of those
 * bytes (0, 2 or 3) and the trailing character that holds bits of whatever follows.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [0, 1, 2].map((shift) => {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const encoded = padded.toString('base64').replace(/=+$/, '');
    const head = [0, 2, 3][shift]!;
    const tail = padded.length % 3 === 0 ? 0 : 1;
    return encoded.slice(head, encoded.length - tail);
  });
}

/**
 * Replaces secret values with `***` in text and JSON. Built once per run from the secret values
 * (see `secretForms` for what of each is masked). What it cannot catch: a secret transformed
 * otherwise (reversed, hex, split across lines other than its own, compressed, encrypted), or
 * shorter than MIN_SECRET_LENGTH.
 */
export class Masker {
  private readonly values: readonly string[];
  private readonly pattern: RegExp | undefined;

  constructor(secrets: Iterable<string>) {
    const forms = new Set<string>();
    for (const secret of secrets) for (const form of secretForms(secret)) forms.add(form);
    // longest first: the alternation takes the first that matches at a position
    this.values = [...forms].sort((a, b) => b.length - a.length);
    this.pattern =
      this.values.length === 0
        ? undefined
        : new RegExp(this.values.map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  }

  /** Does this masker have anything to mask? */
  get active(): boolean {
    return this.pattern !== undefined;
  }

  /** `text` with every form of every secret replaced. */
  text(text: string): string {
    return this.pattern === undefined ? text : text.replace(this.pattern, MASK);
  }

  /** A copy of `value` with secret values replaced in every string (object keys included). */
  json<T extends JsonValue>(value: T): T {
    if (!this.active) return value;
    return this.walk(value) as T;
  }

  private walk(value: JsonValue): JsonValue {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (isJsonObject(value)) {
      // fromEntries defines own properties: a `__proto__` key stays a key
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.text(k), this.walk(v)]));
    }
    return value;
  }
}
