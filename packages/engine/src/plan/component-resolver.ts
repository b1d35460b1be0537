import type { ResolvedComponent } from './types.js';

/**
 * Finds the component an action names. `ref` is what the action wrote in `component:`: a
 * registry reference (`git-clone@1.2.0`, `git-clone@^1`) or a path to a component.yaml
 * relative to `fromFile` (the workflow file). Throws PlanError (the component file's own
 * issues) or an Error whose message becomes the issue at `component:`.
 */
export interface ComponentResolver {
  resolve(ref: string, fromFile: string): ResolvedComponent;
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
