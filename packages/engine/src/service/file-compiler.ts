import type { JsonObject } from '../domain/vocabulary.js';
import { parseComponent } from '../plan/parse-component.js';
import { createRegistryResolver, registryNames, type RegistryEntry } from '../plan/registry-resolver.js';
import { parseSource, type ParsedSource } from '../plan/source-doc.js';
import type { ResolvedComponent } from '../plan/types.js';
import type { ComponentStore } from '../store/types.js';
import { compileWithRegistry, type CompiledWithRegistry } from './compile-with-registry.js';

/** A component file compiled for registration: the component, and the JSON tree of its file. */
export interface CompiledComponent {
  readonly component: ResolvedComponent;
  readonly spec: JsonObject;
}

/**
 * Compiles the files the API receives. The server's compiler (`startCompileWorker`) does the
 * work on a worker thread, so that a large file never stalls other requests; `inProcessCompiler`
 * does it on the caller's thread (the CLI, tests of the API alone). Both throw PlanError listing
 * every issue with its line, exactly as `compileWithRegistry` and `parseComponent` do.
 */
export interface FileCompiler {
  /** `compileWithRegistry`; with `expectName`, a file whose `name:` differs is an issue at that line */
  workflow(components: ComponentStore, text: string, file: string, expectName?: string): Promise<CompiledWithRegistry>;
  /** `parseComponent`, and the file's JSON tree */
  component(text: string, file: string): Promise<CompiledComponent>;
}

/**
 * The steps of a compile, as both compilers run them (the worker runs them one message each).
 * `names` keeps what it parsed for the `workflow` step that follows it on the same text, which
 * then need not parse the file again (parsing is half the time of a compile).
 */
export function compileSteps() {
  let last: { text: string; file: string; parsed: ParsedSource } | undefined;
  const parsedOnce = (text: string, file: string): ParsedSource => {
    const parsed =
      last !== undefined && last.text === text && last.file === file ? last.parsed : parseSource(text, file);
    last = undefined;
    return parsed;
  };
  return {
    names(text: string, file: string): string[] {
      const parsed = parseSource(text, file);
      last = { text, file, parsed };
      return registryNames(text, file, parsed);
    },
    workflow: (text: string, file: string, entries: readonly RegistryEntry[], expectName?: string) =>
      compileWithRegistry(createRegistryResolver(entries), text, file, expectName, parsedOnce(text, file)),
    component: (text: string, file: string): CompiledComponent => ({
      component: parseComponent(text, file),
      spec: parseSource(text, file).value as JsonObject,
    }),
  };
}

/** Load every registered version of the components `names` (what the resolver is given). */
export async function registryEntries(components: ComponentStore, names: readonly string[]): Promise<RegistryEntry[]> {
  const entries: RegistryEntry[] = [];
  for (const name of names) entries.push(...(await components.versions(name)));
  return entries;
}

/** Compiles on the caller's thread. */
export const inProcessCompiler: FileCompiler = {
  async workflow(components, text, file, expectName) {
    const steps = compileSteps();
    const entries = await registryEntries(components, steps.names(text, file));
    return steps.workflow(text, file, entries, expectName);
  },
  component: async (text, file) => compileSteps().component(text, file),
};
