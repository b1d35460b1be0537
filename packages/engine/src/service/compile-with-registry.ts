import { compileWorkflow } from '../plan/compile-workflow.js';
import { createRegistryResolver, registryNames, type RegistryEntry } from '../plan/registry-resolver.js';
import type { Plan } from '../plan/types.js';
import type { ComponentStore } from '../store/types.js';

/** A workflow compiled on the server, and the warnings its component references raised. */
export interface CompiledWithRegistry {
  /** the plan, without `file` (a server's plan comes from no file) */
  readonly plan: Plan;
  /** deprecated component versions it uses, one line each */
  readonly warnings: readonly string[];
}

/**
 * Compile a workflow text against the component registry: loads every registered version of
 * each component the text names (`name@…`), then compiles with `createRegistryResolver`
 * (ranges → highest non-deprecated match; paths refused). `file` names the text in issues.
 * Throws PlanError listing every issue, with line and field.
 */
export async function compileWithRegistry(
  components: ComponentStore,
  text: string,
  file: string,
): Promise<CompiledWithRegistry> {
  const entries: RegistryEntry[] = [];
  for (const name of registryNames(text, file)) entries.push(...(await components.versions(name)));
  const resolver = createRegistryResolver(entries);
  const { file: _file, ...plan } = compileWorkflow(text, file, resolver);
  return { plan, warnings: [...resolver.warnings] };
}
