import type { JsonObject } from '../domain/vocabulary.js';
import { parseComponent } from '../plan/parse-component.js';
import {
  calledWorkflowNames,
  createRegistryResolver,
  registryNames,
  type RegistryEntry,
  type StoredWorkflowEntry,
} from '../plan/registry-resolver.js';
import { parseSource, type ParsedSource } from '../plan/source-doc.js';
import type { ResolvedComponent } from '../plan/types.js';
import type { ComponentStore, WorkflowStore } from '../store/types.js';
import { compileWithRegistry } from './compile-with-registry.js';

/** A component file compiled for registration: the component, and the JSON tree of its file. */
export interface CompiledComponent {
  readonly component: ResolvedComponent;
  readonly spec: JsonObject;
}

/**
 * A workflow compiled for the API: its plan as JSON text, which is what the store keeps (the
 * server's event loop never parses or encodes a large plan: 4 MB for 10,000 actions), its name,
 * and the warnings its component references raised.
 */
export interface CompiledWorkflow {
  readonly name: string;
  readonly planJson: string;
  readonly warnings: readonly string[];
}

/**
 * Compiles the files the API receives. The server's compiler (`startCompileWorker`) does the
 * work on a worker thread, so that a large file never stalls other requests; `inProcessCompiler`
 * does it on the caller's thread (the CLI, tests of the API alone). Both throw PlanError listing
 * every issue with its line, exactly as `compileWithRegistry` and `parseComponent` do.
 */
export interface FileCompiler {
  /**
   * `compileWithRegistry` against the registered components and the stored workflows it names;
   * with `expectName`, a file whose `name:` differs is an issue at that line
   */
  workflow(stores: RegistryStores, text: string, file: string, expectName?: string): Promise<CompiledWorkflow>;
  /** `parseComponent`, and the file's JSON tree */
  component(text: string, file: string): Promise<CompiledComponent>;
}

/** Where a server's compile finds what a workflow names: components and stored workflows. */
export interface RegistryStores {
  readonly components: ComponentStore;
  readonly workflows: WorkflowStore;
}

/** What a workflow text names in the registry: components (`name@…`) and workflows (`uses: name@…`). */
export interface RegistryNames {
  readonly components: string[];
  readonly workflows: string[];
}

/** What a compile is given of the registry: the versions of every name it named. */
export interface RegistryVersions {
  readonly entries: readonly RegistryEntry[];
  readonly workflows: readonly StoredWorkflowEntry[];
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
    names(text: string, file: string): RegistryNames {
      const parsed = parseSource(text, file);
      last = { text, file, parsed };
      return {
        components: registryNames(text, file, parsed),
        workflows: calledWorkflowNames(text, file, parsed),
      };
    },
    workflow(text: string, file: string, versions: RegistryVersions, expectName?: string): CompiledWorkflow {
      const { plan, warnings } = compileWithRegistry(
        createRegistryResolver(versions.entries, versions.workflows),
        text,
        file,
        expectName,
        parsedOnce(text, file),
      );
      return { name: plan.name, planJson: JSON.stringify(plan), warnings };
    },
    component: (text: string, file: string): CompiledComponent => ({
      component: parseComponent(text, file),
      spec: parseSource(text, file).value as JsonObject,
    }),
  };
}

/** Load every registered version of the components and stored workflows `names` (what the resolver is given). */
export async function registryVersions(stores: RegistryStores, names: RegistryNames): Promise<RegistryVersions> {
  const entries: RegistryEntry[] = [];
  for (const name of names.components) entries.push(...(await stores.components.versions(name)));
  const workflows: StoredWorkflowEntry[] = [];
  for (const name of names.workflows) workflows.push(...(await stores.workflows.versions(name)));
  return { entries, workflows };
}

/** Compiles on the caller's thread. */
export const inProcessCompiler: FileCompiler = {
  async workflow(stores, text, file, expectName) {
    const steps = compileSteps();
    const versions = await registryVersions(stores, steps.names(text, file));
    return steps.workflow(text, file, versions, expectName);
  },
  component: async (text, file) => compileSteps().component(text, file),
};
