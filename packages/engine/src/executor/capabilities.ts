import type { PlanAction, ResolvedComponent } from '../plan/types.js';

/**
 * What each executor cannot honour of a component: one pure table, read by
 * `pilotage validate --executor NAME` (a warning at the field) and by the engine when a task run
 * starts (a `warning` fact on the task run, see docs/executors.md). A field missing from an
 * executor's row is honoured. An executor missing from the table honours everything.
 *
 * To add an executor, add its row: field → why it is not honoured, said so that the user knows
 * what happens instead ("runs as the engine's user"); with `when`, only in the case it names
 * (the kubernetes executor honours `user`, except a user name).
 */
export const UNHONOURED_FIELDS: Readonly<Record<string, Readonly<Partial<Record<ComponentField, Unhonoured>>>>> = {
  local: {
    resources: 'a local process gets no CPU or memory limits',
    volumes: 'a local process sees the host file system, and only the run workspace is prepared',
    kubernetes: 'Kubernetes settings are for the kubernetes executor',
    user: "a local process runs as the engine's user",
    workingDir: 'a local process runs in the run workspace',
  },
  docker: {
    kubernetes: 'Kubernetes settings are for the kubernetes executor',
  },
  kubernetes: {
    volumes: {
      when: (c) => c.volumes.some((v) => hasData(v) && (v.readOnly !== true || v.name === 'workspace')),
      reason:
        'a volume with initialData is a read-only ConfigMap in the pod; initial data of the workspace volume ' +
        'cannot be written (the start fails)',
    },
    user: {
      when: (c) => c.user !== undefined && !/^\d+(:\d+)?$/.test(c.user),
      reason: 'a pod runs as a numeric uid (user: 1000 or 1000:1000): a user name fails the start',
    },
  },
};

/**
 * Why an executor does not honour a field: a reason, applying whenever the component sets the
 * field, or a reason with the condition under which it applies (`when`).
 */
export type Unhonoured = string | { readonly reason: string; readonly when: (component: ResolvedComponent) => boolean };

function hasData(volume: ResolvedComponent['volumes'][number]): boolean {
  return Object.keys(volume.initialData ?? {}).length > 0;
}

/** The component fields an executor may be unable to honour. */
export type ComponentField = 'resources' | 'volumes' | 'kubernetes' | 'user' | 'workingDir' | 'image' | 'endpoint';

/** A field a component sets that an executor will not honour, and why. */
export interface UnhonouredField {
  readonly field: ComponentField;
  readonly reason: string;
}

/** The fields `component` sets (non-empty) that `executor` will not honour, in table order. */
export function unhonouredFields(executor: string, component: ResolvedComponent): UnhonouredField[] {
  const row = UNHONOURED_FIELDS[executor] ?? {};
  const found: UnhonouredField[] = [];
  for (const [field, entry] of Object.entries(row) as [ComponentField, Unhonoured][]) {
    if (typeof entry === 'string') {
      if (isSet(component[field])) found.push({ field, reason: entry });
    } else if (entry.when(component)) {
      found.push({ field, reason: entry.reason });
    }
  }
  return found;
}

/**
 * One line for a task run's `warning` fact and for `validate`: `the local executor does not
 * honour resources (a local process gets no CPU or memory limits); volumes (…)`. Undefined when
 * every field is honoured.
 */
export function unhonouredWarning(executor: string, component: ResolvedComponent): string | undefined {
  const fields = unhonouredFields(executor, component);
  if (fields.length === 0) return undefined;
  return `the ${executor} executor does not honour ${fields.map((f) => `${f.field} (${f.reason})`).join('; ')}`;
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value).some(isSet);
  return true;
}

/** The action fields (not the component's) an executor may be unable to honour. */
export type ActionField = 'cache.paths';

/**
 * What each executor cannot honour of an action itself, read by `pilotage validate --executor
 * NAME` (a warning at the field). Same rules as UNHONOURED_FIELDS. The engine says so too when
 * such an action runs (a warning, and the action is not cached: engine/action-run.ts).
 */
export const UNHONOURED_ACTION_FIELDS: Readonly<Record<string, Readonly<Partial<Record<ActionField, string>>>>> = {
  // kubernetes restores and saves cache.paths through copy pods (PILOTAGE_KUBERNETES_CACHE_CLAIM);
  // without that claim the engine warns when such an action runs, since validate cannot know
};

/** The fields of `action` (non-empty) that `executor` will not honour, in table order. */
export function unhonouredActionFields(
  executor: string,
  action: Pick<PlanAction, 'cache'>,
): { readonly field: ActionField; readonly reason: string }[] {
  const row = UNHONOURED_ACTION_FIELDS[executor] ?? {};
  const values: Record<ActionField, unknown> = { 'cache.paths': action.cache?.paths };
  return (Object.entries(row) as [ActionField, string][])
    .filter(([field]) => isSet(values[field]))
    .map(([field, reason]) => ({ field, reason }));
}
