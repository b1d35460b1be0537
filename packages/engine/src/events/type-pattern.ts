/**
 * Event-type patterns, used by sink filters and `cdevent` triggers:
 * - `dev.cdevents.artifact.published.0.3.0`: exactly that type;
 * - `dev.cdevents.artifact.published` (no trailing `M.m.p`): that event at any version, so a
 *   trigger keeps working when producers move to the next spec release;
 * - a pattern with `*` is a glob: `*` matches any run of characters, including dots
 *   (`dev.cdevents.taskrun.*`, `*.finished.*`, `*`).
 * Matching is case-sensitive, as type strings are.
 */

const VERSION_SUFFIX = /\.\d+\.\d+\.\d+$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

const globCache = new Map<string, RegExp>();

/** Does `type` match `pattern` (rules above)? */
export function matchesTypePattern(pattern: string, type: string): boolean {
  if (pattern.includes('*')) {
    let re = globCache.get(pattern);
    if (re === undefined) {
      re = new RegExp('^' + pattern.split('*').map(escapeRegExp).join('.*') + '$');
      globCache.set(pattern, re);
    }
    return re.test(type);
  }
  if (pattern === type) return true;
  return !VERSION_SUFFIX.test(pattern) && VERSION_SUFFIX.test(type) && type.replace(VERSION_SUFFIX, '') === pattern;
}

/**
 * A type filter: `undefined` or an empty list accepts every type; otherwise a type is accepted
 * when it matches any of `patterns`.
 */
export function typeFilter(patterns: readonly string[] | undefined): (type: string) => boolean {
  if (patterns === undefined || patterns.length === 0) return () => true;
  const list = [...patterns];
  return (type) => list.some((p) => matchesTypePattern(p, type));
}

/**
 * The SQL `LIKE` conditions (escape character `\`) that select the types a pattern matches, for
 * filtering stored events: `equals` for an exact type; for an unversioned name, `like` the name
 * followed by three more dot-separated parts and `notLike` a fourth (so `dev.cdevents.artifact`
 * does not select `dev.cdevents.artifact.published.0.3.0`); for a glob, `like` with `*` as `%`.
 * The unversioned case does not check that the three parts are digits, which real type strings
 * never make a difference for.
 */
export function typePatternSql(
  pattern: string,
): { readonly equals: string } | { readonly like: string; readonly notLike?: string } {
  const escape = (text: string): string => text.replace(/[\\%_]/g, '\\$&');
  if (pattern.includes('*')) return { like: pattern.split('*').map(escape).join('%') };
  if (VERSION_SUFFIX.test(pattern)) return { equals: pattern };
  const base = escape(pattern);
  return { like: `${base}.%.%.%`, notLike: `${base}.%.%.%.%` };
}
