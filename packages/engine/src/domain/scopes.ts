/**
 * API token scopes. Each includes the ones before it: `read` sees runs, workflows, components
 * and events; `run` also starts, cancels, reruns and approves; `admin` also registers
 * components, applies workflows, manages tokens, secrets and triggers.
 */
export const SCOPES = ['read', 'run', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** True when a token holding `held` may do what needs `needed`. */
export function scopeAllows(held: readonly Scope[], needed: Scope): boolean {
  const rank = SCOPES.indexOf(needed);
  return held.some((scope) => SCOPES.indexOf(scope) >= rank);
}

/** True when `value` names a scope. */
export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
