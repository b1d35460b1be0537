/**
 * The libraries of workflow features that not every workflow uses, loaded the first time one is
 * needed instead of when Pilotage starts: CEL (`${{ }}` expressions and `if:`), RE2 (`pattern` in
 * a JSON Schema), croner (`cron` triggers) and semver (component version ranges). Together
 * they were ~30 ms of a cold start (bench/README.md, "Session 14"): a `pilotage run` of a
 * workflow with none of them never loads them.
 *
 * Loaded with `require`, which answers at once, so that the code using them stays synchronous:
 * each library's CommonJS build (CEL's, which has none, is bundled as one by
 * scripts/bundle-dependencies.mjs into dist/vendor/cel-js.cjs; the sources, run by tsx in the
 * tests, load the package itself). Every use of a library goes through its function here: a
 * second copy loaded another way would have classes of its own (`instanceof` would fail).
 */
import type * as CelJs from '@marcbachmann/cel-js';
import type * as CelEvaluator from '@marcbachmann/cel-js/evaluator';
import type * as Croner from 'croner';
import { createRequire } from 'node:module';
import type * as Re2js from 're2js';
import type semverCompare from 'semver/functions/compare.js';
import type semverParse from 'semver/functions/parse.js';
import type semverSatisfies from 'semver/functions/satisfies.js';
import type semverMaxSatisfying from 'semver/ranges/max-satisfying.js';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

/** `load`'s answer, asked for once, on the first call. */
function onFirstUse<T>(load: () => T): () => T {
  let loaded: { readonly value: T } | undefined;
  return () => (loaded ??= { value: load() }).value;
}

/** The CEL library (`Environment`, `ParseError`, `Optional`…). */
export const celJs = onFirstUse(() => require('@marcbachmann/cel-js') as typeof CelJs);

/** CEL's value classes that its index does not export (`Duration`, `UnsignedInt`). */
export const celValues = onFirstUse(
  (): Pick<typeof CelEvaluator, 'Duration' | 'UnsignedInt'> =>
    require('@marcbachmann/cel-js/evaluator') as typeof CelEvaluator,
);

/** RE2 in JavaScript: regular expressions matched in linear time. */
export const re2js = onFirstUse(() => require('re2js') as typeof Re2js);

/** croner: cron schedules. */
export const croner = onFirstUse(() => require('croner') as typeof Croner);

/** The functions of npm's semver that Pilotage uses (one module each: the index loads ~50). */
export const semver = onFirstUse(() => ({
  compare: require('semver/functions/compare.js') as typeof semverCompare,
  parse: require('semver/functions/parse.js') as typeof semverParse,
  satisfies: require('semver/functions/satisfies.js') as typeof semverSatisfies,
  maxSatisfying: require('semver/ranges/max-satisfying.js') as typeof semverMaxSatisfying,
}));

/** The full YAML parser, for the files that plan/common-yaml.ts does not read (and their errors). */
export const yamlParser = onFirstUse(() => require('yaml') as typeof Yaml);
