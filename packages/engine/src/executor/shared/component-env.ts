import type { TaskSpec } from '../executor.js';

/**
 * What a component inherits from the engine's own environment. Every executor builds a
 * component's environment with `componentEnv` and nothing else, so that the rule is written once:
 *
 * 1. from the engine's environment, only the variables named by `base` (the local executor's
 *    PATH, HOME, …; nothing for containers, whose image sets its own) and by an allow-list:
 *    the engine's `passEnv` setting and the workflow's and action's `passEnv` (`spec.passEnv`);
 * 2. never a `PILOTAGE_*` variable of the engine's (its encryption key, API token, secrets,
 *    store URL), whatever an allow-list says: a secret reaches a component only where the
 *    workflow maps it (`env: { X: "${{ secrets.X }}" }`);
 * 3. then `spec.env` over it: the contract's variables, the component's, workflow's and
 *    action's `env`, which win over anything inherited.
 */
export interface ComponentEnvPolicy {
  /** the engine's environment (the process's, for real executors) */
  readonly engineEnv: Readonly<Record<string, string | undefined>>;
  /** names and globs every component inherits (the executor's base) */
  readonly base: readonly string[];
  /** names and globs the operator lets through (the `passEnv` setting), for every workflow */
  readonly passEnv: readonly string[];
}

/**
 * The base of the local executor: what a program needs to find its tools and speak the user's
 * language and time zone. `LC_*` is every locale category.
 */
export const LOCAL_BASE_ENV: readonly string[] = Object.freeze([
  'PATH',
  'HOME',
  'LANG',
  'LC_*',
  'TZ',
  'TMPDIR',
  'USER',
]);

/** Engine variables that no allow-list can pass (rule 2). */
export const NEVER_PASSED_ENV = 'PILOTAGE_*';

/** A policy that inherits nothing (tests, and executors given no engine environment). */
export const INHERIT_NOTHING: ComponentEnvPolicy = Object.freeze({ engineEnv: {}, base: [], passEnv: [] });

/**
 * The whole environment of one component: the inherited part (rules 1 and 2), then `spec.env`.
 * Pure; the result is a new object.
 */
export function componentEnv(
  spec: Pick<TaskSpec, 'env' | 'passEnv'>,
  policy: ComponentEnvPolicy,
): Record<string, string> {
  return Object.assign({}, inheritedEnv(policy, spec.passEnv ?? []), spec.env);
}

/**
 * Per policy whose engine environment is frozen (a snapshot: `snapshotEnv`), the inherited part
 * by the spec's `passEnv`: the same for every task of a workflow, and reading every variable of
 * the environment per task cost more than the rest of building it.
 */
const inheritedByPolicy = new WeakMap<ComponentEnvPolicy, Map<string, Readonly<Record<string, string>>>>();

/** Rules 1 and 2: what of the engine's environment a component with `passEnv` inherits. */
function inheritedEnv(policy: ComponentEnvPolicy, passEnv: readonly string[]): Readonly<Record<string, string>> {
  const cacheable = Object.isFrozen(policy.engineEnv);
  const key = passEnv.join('\u0000');
  const cached = cacheable ? inheritedByPolicy.get(policy)?.get(key) : undefined;
  if (cached !== undefined) return cached;
  const allowed = [...policy.base, ...policy.passEnv, ...passEnv].map(cachedMatcher);
  const neverPassed = cachedMatcher(NEVER_PASSED_ENV);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(policy.engineEnv)) {
    if (value === undefined || neverPassed(name)) continue;
    if (allowed.some((matches) => matches(name))) env[name] = value;
  }
  if (cacheable) {
    let byKey = inheritedByPolicy.get(policy);
    if (byKey === undefined) inheritedByPolicy.set(policy, (byKey = new Map()));
    byKey.set(key, Object.freeze(env));
  }
  return env;
}

/**
 * A frozen copy of `env` (default this process's): an executor's engine environment as it was
 * when the executor was made, so that what components inherit is computed once per `passEnv`.
 */
export function snapshotEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<Record<string, string | undefined>> {
  return Object.isFrozen(env) ? env : Object.freeze({ ...env });
}

/** Matchers already built, by pattern: a component's start need not compile its patterns again. */
const matchers = new Map<string, (name: string) => boolean>();

/** `globMatcher(pattern)`, built once per pattern (the set of patterns is the configuration's). */
function cachedMatcher(pattern: string): (name: string) => boolean {
  let matcher = matchers.get(pattern);
  if (matcher === undefined) {
    matcher = globMatcher(pattern);
    matchers.set(pattern, matcher);
  }
  return matcher;
}

/** A predicate for one allow-list entry; `*` matches any run of characters, the rest is literal. */
export function globMatcher(pattern: string): (name: string) => boolean {
  if (!pattern.includes('*')) return (name) => name === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`);
  return (name) => regex.test(name);
}
