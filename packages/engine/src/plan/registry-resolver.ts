import type { JsonValue } from '../domain/vocabulary.js';
import { checkNoCycle } from './compile-uses.js';
import { isPathRef, isRegistryRef, type CalledWorkflow, type ComponentResolver } from './component-resolver.js';
import { asArray, asRecord, asString, deepFreeze } from './json-access.js';
import { parseComponent } from './parse-component.js';
import { parseSource, type ParsedSource } from './source-doc.js';
import type { Plan, ResolvedComponent } from './types.js';
import { compareVersions, maxSatisfying, parseRange, RANGE_FORMS } from './version-range.js';

/** A registered component version, as the resolver needs it (a `ComponentVersionRecord` fits). */
export interface RegistryEntry {
  readonly name: string;
  readonly version: string;
  /** the component.yaml text as registered */
  readonly source: string;
  readonly deprecated: boolean;
  readonly deprecationMessage: string | null;
  /** folder of the component's files on this machine (local executor), if known */
  readonly dir?: string | null;
}

/** A stored workflow version, as `uses: name@version` resolves it (a `WorkflowVersionRecord` fits). */
export interface StoredWorkflowEntry {
  readonly name: string;
  readonly version: number;
  /** its compiled plan, as stored */
  readonly plan: JsonValue;
}

/** A resolver over a fixed set of registered versions, and what it noticed while resolving. */
export interface RegistryResolver extends ComponentResolver {
  /** one line per deprecated version a reference resolved to, in first-use order */
  readonly warnings: readonly string[];
}

/**
 * Resolve `name@version-or-range` references against `entries` (preloaded: the compiler's
 * resolver is synchronous). An exact version resolves even when deprecated (with a warning); a
 * range (`^1`, `~1.2`, `1.x`, `latest`, see version-range.ts) resolves to the highest matching
 * version that is not deprecated. Paths to component files are refused: a server never reads
 * files a workflow names. Each stored spec is compiled once with `parseComponent`; its `dir` is the
 * entry's `dir` (absent when the entry has none). Errors are plain Errors whose message becomes
 * the issue at the action's `component:` field.
 */
export function createRegistryResolver(
  entries: readonly RegistryEntry[],
  workflows: readonly StoredWorkflowEntry[] = [],
): RegistryResolver {
  const byName = new Map<string, RegistryEntry[]>();
  for (const entry of entries) {
    const list = byName.get(entry.name) ?? [];
    list.push(entry);
    byName.set(entry.name, list);
  }
  const compiled = new Map<string, ResolvedComponent>();
  const warnings: string[] = [];
  const warned = new Set<string>();

  const compile = (entry: RegistryEntry): ResolvedComponent => {
    const key = `${entry.name}@${entry.version}`;
    let component = compiled.get(key);
    if (component === undefined) {
      const { dir: _parsedDir, ...rest } = parseComponent(entry.source, key);
      component = deepFreeze(entry.dir ? { ...rest, dir: entry.dir } : rest);
      compiled.set(key, component);
    }
    return component;
  };

  return {
    warnings,
    resolveWorkflow: (ref, _fromFile, chain) => resolveStored(ref, chain, workflows),
    resolve(ref: string): ResolvedComponent {
      if (isPathRef(ref)) {
        throw new Error(
          `the server resolves components from its registry, not from files: register "${ref}" (pilotage component register) and write name@version or name@^1`,
        );
      }
      const at = ref.lastIndexOf('@');
      const name = ref.slice(0, at);
      const wanted = ref.slice(at + 1);
      const range = parseRange(wanted);
      if (range === undefined) {
        throw new Error(`"${wanted}" is not a version or a range; write one of ${RANGE_FORMS}`);
      }
      const versions = byName.get(name) ?? [];
      if (versions.length === 0) {
        throw new Error(`component ${name} is not registered; register it first (pilotage component register FILE)`);
      }
      if (range.kind === 'exact') {
        const entry = versions.find((v) => v.version === wanted);
        if (entry === undefined) throw new Error(`component ${ref} is not registered; ${registeredList(versions)}`);
        if (entry.deprecated && !warned.has(ref)) {
          warned.add(ref);
          warnings.push(
            `component ${ref} is deprecated${entry.deprecationMessage ? `: ${entry.deprecationMessage}` : ''}`,
          );
        }
        return compile(entry);
      }
      const live = versions.filter((v) => !v.deprecated);
      const best = maxSatisfying(
        live.map((v) => v.version),
        range,
      );
      if (best === undefined) {
        const onlyDeprecated = maxSatisfying(
          versions.map((v) => v.version),
          range,
        );
        const why =
          onlyDeprecated === undefined
            ? registeredList(versions)
            : `only deprecated versions match (such as ${onlyDeprecated}); write an exact version to keep using one`;
        throw new Error(`no version of ${name} matches ${wanted}: ${why}`);
      }
      return compile(live.find((v) => v.version === best)!);
    },
  };
}

/**
 * `uses: name@3` or `name@latest` against the stored workflows: the stored plan, embedded as it
 * was compiled (its own calls included), under the key `name@<version>`. A workflow that calls
 * its own name, at any version, is refused (chain keys are `name@…` on a server).
 */
function resolveStored(
  ref: string,
  chain: readonly string[],
  workflows: readonly StoredWorkflowEntry[],
): CalledWorkflow {
  if (isPathRef(ref)) {
    throw new Error(
      `the server runs workflows it stores, not files: apply "${ref}" (pilotage workflow apply FILE) and write its name@version`,
    );
  }
  const at = ref.lastIndexOf('@');
  if (at <= 0) throw new Error(`expected a stored workflow such as deploy@3 or deploy@latest, got "${ref}"`);
  const name = ref.slice(0, at);
  const wanted = ref.slice(at + 1);
  const versions = workflows.filter((w) => w.name === name).sort((a, b) => b.version - a.version);
  checkNoCycle(name, chain.map(nameOfKey));
  if (versions.length === 0)
    throw new Error(`workflow ${name} is not stored on this server; apply it first (pilotage workflow apply FILE)`);
  const number = wanted === 'latest' ? versions[0]!.version : Number(wanted);
  if (!/^(latest|[1-9][0-9]*)$/.test(wanted)) {
    throw new Error(
      `"${wanted}" is not a stored version: write a version number such as ${name}@${versions[0]!.version}, or ${name}@latest`,
    );
  }
  const entry = versions.find((w) => w.version === number);
  if (entry === undefined) {
    throw new Error(`workflow ${name} has no version ${number}; stored: ${versions.map((w) => w.version).join(', ')}`);
  }
  return { key: `${name}@${entry.version}`, plan: entry.plan as unknown as Plan };
}

function nameOfKey(key: string): string {
  const at = key.lastIndexOf('@');
  return at > 0 ? key.slice(0, at) : key;
}

/**
 * The workflow names a text calls through `uses: name@…` (stages and finally), each once, in
 * file order: what to preload before compiling on a server.
 */
export function calledWorkflowNames(
  text: string,
  file: string,
  parsed: ParsedSource = parseSource(text, file),
): string[] {
  const { value } = parsed;
  const doc = asRecord(value as JsonValue | undefined);
  const names = new Set<string>();
  for (const stage of [...(asArray(doc?.stages) ?? []), ...(asArray(doc?.finally) ?? [])]) {
    for (const action of asArray(asRecord(stage)?.actions) ?? []) {
      const ref = asString(asRecord(action)?.uses);
      if (ref !== undefined && !isPathRef(ref) && ref.lastIndexOf('@') > 0)
        names.add(ref.slice(0, ref.lastIndexOf('@')));
    }
  }
  return [...names];
}

function registeredList(versions: readonly RegistryEntry[]): string {
  const sorted = versions.map((v) => v.version).sort((a, b) => compareVersions(b, a));
  const shown = sorted.slice(0, 10).join(', ');
  return `registered: ${shown}${sorted.length > 10 ? ', …' : ''}`;
}

/**
 * The component names a workflow text references through the registry (`name@…` in
 * `stages[].actions[].component`), each once, in file order: what to preload before compiling.
 * Unreadable text gives an empty list (the compiler reports it). `parsed` as for compileWorkflow.
 */
export function registryNames(text: string, file: string, parsed: ParsedSource = parseSource(text, file)): string[] {
  const { value } = parsed;
  const names = new Set<string>();
  for (const stage of asArray(asRecord(value as JsonValue | undefined)?.stages) ?? []) {
    for (const action of asArray(asRecord(stage)?.actions) ?? []) {
      const ref = asString(asRecord(action)?.component);
      if (ref !== undefined && isRegistryRef(ref)) names.add(ref.slice(0, ref.lastIndexOf('@')));
    }
  }
  return [...names];
}
