/**
 * What the text of a scalar means, for plan/common-yaml.ts: a plain scalar's value under YAML
 * 1.2's core schema as the `yaml` library resolves it, the escapes of a double-quoted scalar,
 * and the folding of a `>` block.
 */
import type { JsonValue } from '../domain/vocabulary.js';

/** The one-character escapes of a double-quoted scalar (YAML 1.2; `\x`, `\u`, `\U` are left to the parser). */
export const ESCAPES: ReadonlyMap<number, string> = new Map(
  Object.entries({
    '0': '\0',
    a: '\x07',
    b: '\b',
    e: '\x1b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    N: '\u0085',
    _: '\u00a0',
    L: '\u2028',
    P: '\u2029',
    ' ': ' ',
    '"': '"',
    '/': '/',
    '\\': '\\',
  }).map(([escape, value]) => [escape.charCodeAt(0), value]),
);

/** Join the lines of a folded scalar (no more-indented lines: those are left to the parser). */
export function fold(lines: readonly string[]): string {
  let out = '';
  let blanks = 0;
  let started = false;
  for (const line of lines) {
    if (line === '') {
      blanks++;
      continue;
    }
    if (started) out += blanks === 0 ? ' ' : '\n'.repeat(blanks);
    out += line;
    blanks = 0;
    started = true;
  }
  return out;
}

// the core schema's tests, in the order the `yaml` library tries them (yaml/dist/schema/core)
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/**
 * A plain scalar's value under YAML 1.2's core schema, as the `yaml` library resolves it: null,
 * booleans, integers (decimal, `0o` octal, `0x` hex) and floats; anything else is a string.
 * `undefined` for `.inf` and `.nan`, which are not JSON (the parser reports them).
 */
export function plainValue(source: string): JsonValue | undefined {
  const c = source.charCodeAt(0);
  if (c === 126 /* ~ */ || c === 110 || c === 78 /* n N */) {
    if (source === '~' || source === 'null' || source === 'Null' || source === 'NULL') return null;
    return source;
  }
  if (c === 116 || c === 84 || c === 102 || c === 70 /* t T f F */) {
    if (source === 'true' || source === 'True' || source === 'TRUE') return true;
    if (source === 'false' || source === 'False' || source === 'FALSE') return false;
    return source;
  }
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) /* digit - + . */) return source;
  if (INT_OCT.test(source)) return parseInt(source.substring(2), 8);
  if (INT.test(source)) return parseInt(source, 10);
  if (INT_HEX.test(source)) return parseInt(source.substring(2), 16);
  if (FLOAT_NAN.test(source)) return undefined;
  if (FLOAT_EXP.test(source) || FLOAT.test(source)) return parseFloat(source);
  return source;
}
