import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { re2js } from './on-first-use.js';

/**
 * The regular expressions of user-written JSON Schemas (`pattern`, `patternProperties`), run by
 * RE2 (re2js, pure JavaScript): matching takes time linear in the text, so no input can make it
 * backtrack for seconds (`^(a+)+$` against 26 characters blocked the server 1.1 s with the
 * built-in engine). RE2 has no look-around and no backreferences: a schema using them is refused
 * when it is loaded (see `unsupportedPattern`). ECMAScript's `\uXXXX` and `\u{X…}` escapes are
 * read as RE2's `\x{X…}`.
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string): { test(text: string): boolean; toString(): string } => {
    const compiled = re2js().RE2JS.compile(toRe2Syntax(pattern));
    return {
      test: (text: string) => compiled.matcher(text).find(),
      // Ajv shares compiled patterns by this text: it must differ from pattern to pattern
      toString: () => `/${pattern}/`,
    };
  },
  // only for Ajv's standalone code, which Pilotage does not generate
  { code: 'require("re2js").RE2JS' },
);

/** Why RE2 cannot run `pattern` (a look-around, a backreference…), or undefined when it can. */
export function unsupportedPattern(pattern: string): string | undefined {
  try {
    re2js().RE2JS.compile(toRe2Syntax(pattern));
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, '');
  }
}

// `\u00e9` and `\u{1F600}` → `\x{00e9}`, `\x{1F600}`; an escaped backslash is kept as it is
function toRe2Syntax(pattern: string): string {
  return pattern.replace(/\\\\|\\u\{([0-9a-fA-F]+)\}|\\u([0-9a-fA-F]{4})/g, (match, braced?: string, four?: string) =>
    match === '\\\\' ? match : `\\x{${braced ?? four}}`,
  );
}
