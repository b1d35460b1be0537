import { PlanError } from '../domain/issue.js';
import { compileWorkflow } from '../plan/compile-workflow.js';
import type { RegistryResolver } from '../plan/registry-resolver.js';
import { parseSource, type ParsedSource } from '../plan/source-doc.js';
import type { Plan } from '../plan/types.js';

/** A workflow compiled on the server, and the warnings its component references raised. */
export interface CompiledWithRegistry {
  /** the plan, without `file` (a server's plan comes from no file) */
  readonly plan: Plan;
  /** deprecated component versions it uses, one line each */
  readonly warnings: readonly string[];
}

/**
 * Compile a workflow text against registered components and stored workflows
 * (`createRegistryResolver`: ranges → highest non-deprecated match; `uses: name@latest` → the
 * latest stored version; paths refused). `file` names the text in issues. With
 * `expectName` (the name in a PUT's URL), a file naming another workflow is an issue at its
 * `name:`. Throws PlanError listing every issue, with line and field. Pure. `parsed` as for
 * compileWorkflow.
 */
export function compileWithRegistry(
  resolver: RegistryResolver,
  text: string,
  file: string,
  expectName?: string,
  parsed: ParsedSource = parseSource(text, file),
): CompiledWithRegistry {
  // on a server, workflows are known by name: the chain of calls starts with this one's
  const own = parsed.value;
  const name = typeof own === 'object' && own !== null && !Array.isArray(own) ? own.name : undefined;
  const chain = [`${typeof name === 'string' ? name : file}@new`];
  const { file: _file, ...plan } = compileWorkflow(text, file, resolver, parsed, chain);
  if (expectName !== undefined && plan.name !== expectName) {
    const doc = parsed.source;
    throw new PlanError([
      doc.issue(['name'], `the file names workflow "${plan.name}" but the URL names "${expectName}"; they must match`),
    ]);
  }
  return { plan, warnings: [...resolver.warnings] };
}
