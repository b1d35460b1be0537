import type { Plan, ResolvedComponent } from './types.js';

/**
 * Finds the component an action names. `ref` is what the action wrote in `component:`: a
 * registry reference (`git-clone@1.2.0`, `git-clone@^1`) or a path to a component.yaml
 * relative to `fromFile` (the workflow file). Throws PlanError (the component file's own
 * issues) or an Error whose message becomes the issue at `component:`.
 *
 * `resolveWorkflow`, when present, finds the workflow an action `uses:` the same way: a stored
 * workflow (`deploy@3`, `deploy@latest`) or a path to a workflow file. `chain` holds the keys of
 * the workflows that lead to this call, outermost first (the compiler refuses cycles and too
 * deep chains with it). Without it, `uses:` is a load error.
 */
export interface ComponentResolver {
  resolve(ref: string, fromFile: string): ResolvedComponent;
  resolveWorkflow?(ref: string, fromFile: string, chain: readonly string[]): CalledWorkflow;
}

/** A workflow found for `uses:`: its compiled plan and the key it is known by in the root plan. */
export interface CalledWorkflow {
  /** `deploy@3` for a stored workflow, the absolute path of a file */
  readonly key: string;
  readonly plan: Plan;
}

const REGISTRY_REF = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?@[^\s@/]+$/;

/** Is `ref` a path to a component file (rather than a registry reference)? */
export function isPathRef(ref: string): boolean {
  return (
    ref.startsWith('.') || ref.startsWith('/') || ref.includes('/') || ref.includes('\\') || /\.(ya?ml|json)$/.test(ref)
  );
}

/** Is `ref` shaped like `name@version-or-range`? */
export function isRegistryRef(ref: string): boolean {
  return REGISTRY_REF.test(ref);
}
