/**
 * Semantic versions (MAJOR.MINOR.PATCH[-prerelease][+build], semver 2.0.0) and the ranges a
 * workflow may write after `name@`: an exact version (`1.2.0`), a caret (`^1`, `^1.2`, `^1.2.3`),
 * a tilde (`~1.2`, `~1.2.3`), an x-range (`1`, `1.x`, `1.2`, `1.2.x`, `*`) or `latest`. Parsing,
 * ordering and matching are npm's `semver` package; this module only decides which forms a
 * workflow may write (no `>=1`, no `1 - 2`, no `v1.2.0`). Pure; the registry resolver
 * (registry-resolver.ts) and the component store sort with it.
 */
import { semver } from './on-first-use.js';

/** A parsed semantic version. `prerelease` is empty for a release. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
  /** the text it was parsed from */
  readonly text: string;
}

const NUMBER = '0|[1-9][0-9]*';
const IDENT = '[0-9A-Za-z-]+';
const VERSION = new RegExp(
  `^(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+${IDENT}(?:\\.${IDENT})*)?$`,
);

/** Parse `text` as a semantic version; undefined when it is not one (`1.2`, `v1.2.0`, `01.0.0`). */
export function parseVersion(text: string): SemVer | undefined {
  // semver.parse forgives a leading `v` or `=` and spaces; a component version may not have them
  if (!VERSION.test(text)) return undefined;
  const parsed = semver().parse(text);
  if (parsed === null) return undefined;
  return { major: parsed.major, minor: parsed.minor, patch: parsed.patch, prerelease: parsed.prerelease, text };
}

/**
 * Semver precedence: negative when `a < b`, 0 when equal (build metadata is ignored), positive
 * when `a > b`. A prerelease sorts before its release (`1.0.0-rc.1 < 1.0.0`).
 */
export function compareSemVer(a: SemVer, b: SemVer): number {
  return semver().compare(a.text, b.text);
}

/**
 * Compare two version strings by semver precedence (as `compareSemVer`). Text that is not a
 * version sorts before every version, and among such texts by plain string order, so sorting
 * never throws.
 */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x !== undefined && y !== undefined) return compareSemVer(x, y);
  if (x === undefined && y === undefined) return a < b ? -1 : a > b ? 1 : 0;
  return x === undefined ? -1 : 1;
}

/**
 * A parsed range. `exact` ranges match one version text only (deprecated ones included, by the
 * resolver's rule); the others match releases in `[min, below)` (`below` absent: no upper bound),
 * and prereleases only of `min`'s own MAJOR.MINOR.PATCH when `min` is a prerelease (semver's rule).
 */
export type VersionRange =
  | { readonly kind: 'exact'; readonly version: SemVer; readonly text: string }
  | {
      readonly kind: 'range';
      readonly min: SemVer;
      readonly below?: SemVer;
      readonly text: string;
    };

const PARTIAL = new RegExp(
  `^(${NUMBER}|[xX*])(?:\\.(${NUMBER}|[xX*]))?(?:\\.(${NUMBER}|[xX*]))?(?:-(${IDENT}(?:\\.${IDENT})*))?$`,
);

function version(major: number, minor: number, patch: number, prerelease: readonly (string | number)[] = []): SemVer {
  const pre = prerelease.length > 0 ? `-${prerelease.join('.')}` : '';
  return { major, minor, patch, prerelease, text: `${major}.${minor}.${patch}${pre}` };
}

/** What a range may look like, for messages. */
export const RANGE_FORMS = '1.2.0 (exact), ^1, ^1.2, ~1.2, 1.x, 1.2.x or latest';

/**
 * Parse what follows `name@`. Returns undefined for anything else (`>=1`, `1.2.3 - 2`, `v1`),
 * which the resolver reports with `RANGE_FORMS`.
 */
export function parseRange(text: string): VersionRange | undefined {
  const exact = parseVersion(text);
  if (exact !== undefined) return { kind: 'exact', version: exact, text };
  if (text === 'latest' || text === '*' || text === 'x' || text === 'X') {
    return { kind: 'range', min: version(0, 0, 0), text };
  }
  const operator = text.startsWith('^') ? '^' : text.startsWith('~') ? '~' : '';
  const match = PARTIAL.exec(text.slice(operator.length));
  if (match === null) return undefined;
  const parts = [match[1], match[2], match[3]].map((p) =>
    p === undefined || /^[xX*]$/.test(p) ? undefined : Number(p),
  );
  // a wildcard ends the numbers: `1.x.3` is not a range
  const given = parts.findIndex((p) => p === undefined);
  if (given !== -1 && parts.slice(given).some((p) => p !== undefined)) return undefined;
  const [major, minor, patch] = parts;
  if (major === undefined) return operator === '' ? { kind: 'range', min: version(0, 0, 0), text } : undefined;
  const pre = match[4]?.split('.').map((p) => (/^(0|[1-9][0-9]*)$/.test(p) ? Number(p) : p)) ?? [];
  // a prerelease tag needs a full version (`^1.2.3-rc.1`)
  if (pre.length > 0 && patch === undefined) return undefined;
  const min = version(major, minor ?? 0, patch ?? 0, pre);
  let below: SemVer;
  if (operator === '^') {
    if (major > 0 || minor === undefined) below = version(major + 1, 0, 0);
    else if (minor > 0 || patch === undefined) below = version(0, minor + 1, 0);
    else below = version(0, 0, patch + 1);
  } else if (operator === '~' || minor !== undefined) {
    below = minor === undefined ? version(major + 1, 0, 0) : version(major, minor + 1, 0);
  } else {
    below = version(major + 1, 0, 0);
  }
  // `1.2.3` alone was handled as exact; a partial without operator is an x-range
  return { kind: 'range', min, below, text };
}

/**
 * Does `candidate` satisfy `range`? Exact ranges compare the version text (so `1.2.0+a` is not
 * `1.2.0+b`); the others are semver's `satisfies` over `[min, below)`, which matches a
 * prerelease only of `min`'s own MAJOR.MINOR.PATCH when `min` is a prerelease.
 */
export function satisfies(candidate: SemVer, range: VersionRange): boolean {
  if (range.kind === 'exact') return candidate.text === range.text;
  return semver().satisfies(candidate.text, semverRange(range));
}

/** The highest of `versions` (texts) that satisfies `range`, or undefined. Texts that are not versions are ignored. */
export function maxSatisfying(versions: readonly string[], range: VersionRange): string | undefined {
  const valid = versions.filter((text) => parseVersion(text) !== undefined);
  if (range.kind === 'exact') return valid.find((text) => text === range.text);
  return semver().maxSatisfying(valid, semverRange(range)) ?? undefined;
}

// `[min, below)` in semver's range syntax
function semverRange(range: Extract<VersionRange, { kind: 'range' }>): string {
  return range.below === undefined ? `>=${range.min.text}` : `>=${range.min.text} <${range.below.text}`;
}
