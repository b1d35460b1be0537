import type { JsonObject } from '../domain/vocabulary.js';

/** One `[COUT] KEY=value` line. */
export interface CoutLine {
  readonly key: string;
  /** the text after the first `=`, kept as a string (not parsed as JSON) */
  readonly value: string;
}

const COUT_LINE = /^\[COUT\][ \t]*([^\s=]+)=(.*)$/s;

/**
 * Parse a stdout line of the form `[COUT] KEY=value` (ContainerOps' form, for images with no
 * HTTP client). Spaces after `[COUT]` are optional; KEY has no spaces and no `=`. Undefined for
 * any other line. Pure.
 */
export function parseCoutLine(line: string): CoutLine | undefined {
  const match = COUT_LINE.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (match === null) return undefined;
  return { key: match[1] ?? '', value: match[2] ?? '' };
}

/** The key of `[COUT] CO_RESULT=true|false`, which reports the result instead of an output. */
export const COUT_RESULT_KEY = 'CO_RESULT';

/**
 * Collects the [COUT] lines of a component's stdout: `output.KEY = value` (a later line wins),
 * and `CO_RESULT=true|false` (case-insensitive) as the result. Any other CO_RESULT value is
 * ignored and noted in `issues`. Feed it stdout lines only, in order.
 */
export class CoutCollector {
  readonly #output: JsonObject = {};
  #result: 'success' | 'failure' | undefined;
  readonly #issues: string[] = [];

  /** Feed one line; returns whether it was a [COUT] line. */
  add(line: string): boolean {
    const cout = parseCoutLine(line);
    if (cout === undefined) return false;
    if (cout.key === COUT_RESULT_KEY) {
      const value = cout.value.trim().toLowerCase();
      if (value === 'true') this.#result = 'success';
      else if (value === 'false') this.#result = 'failure';
      else this.#issues.push(`[COUT] CO_RESULT must be true or false, got ${JSON.stringify(cout.value)}; ignored`);
      return true;
    }
    // defineProperty: a key such as `__proto__` becomes a plain own field, never a prototype.
    Object.defineProperty(this.#output, cout.key, {
      value: cout.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return true;
  }

  /** The outputs set so far. */
  get output(): JsonObject {
    return this.#output;
  }

  /** The result from CO_RESULT, if one was given. */
  get result(): 'success' | 'failure' | undefined {
    return this.#result;
  }

  /** Lines that looked like [COUT] but were ignored, with why. */
  get issues(): readonly string[] {
    return this.#issues;
  }
}
