/**
 * The labels and names of what the Kubernetes executor creates (pods, claims, ConfigMaps,
 * Secrets). `list()`, `listRuns()`, `attach()`, `destroy()` and the pod watch find their things
 * by them, so they are the recovery contract: renaming one strands an upgraded engine's pods.
 */
export const LABELS = {
  /** `true` on everything Pilotage created */
  managed: 'pilotage.dev/managed',
  /** the engine that created it (several engines may share a namespace) */
  engineId: 'pilotage.dev/engine-id',
  runId: 'pilotage.dev/run-id',
  taskRunId: 'pilotage.dev/task-run-id',
  workflow: 'pilotage.dev/workflow',
  stage: 'pilotage.dev/stage',
  action: 'pilotage.dev/action',
  attempt: 'pilotage.dev/attempt',
  /** the component's name (its version is in an annotation) */
  component: 'pilotage.dev/component',
  /** on ConfigMaps: the pod (task ref) they belong to, removed with it */
  owner: 'pilotage.dev/owner',
  /** on a run's workspace claim: `true` when released with `keep` (recovery leaves it) */
  kept: 'pilotage.dev/kept',
  /** `copy` on a copy pod (copy-pods.ts): no task run; `list()` leaves it alone while it runs */
  role: 'pilotage.dev/role',
} as const;

/** Annotations (values a label cannot hold). */
export const ANNOTATIONS = {
  /** `name@version` of the component */
  component: 'pilotage.dev/component',
  /** the exact workflow, stage and action names (labels hold sanitized ones) */
  workflow: 'pilotage.dev/workflow',
  stage: 'pilotage.dev/stage',
  action: 'pilotage.dev/action',
  /** the path of the component's endpoint (to rebuild its URL on attach) */
  endpointPath: 'pilotage.dev/endpoint-path',
  /** on a run's workspace claim: the run whose workspace it is a copy of */
  copyFrom: 'pilotage.dev/copy-from',
  /** on such a claim: `true` once the copy is whole */
  copied: 'pilotage.dev/copied',
} as const;

/** The label selector of everything an engine created. */
export function engineSelector(engineId: string): string {
  return `${LABELS.managed}=true,${LABELS.engineId}=${engineId}`;
}

/**
 * A label value: at most 63 characters of `[A-Za-z0-9_.-]`, starting and ending with a letter or
 * digit (others become `-`, then the ends are trimmed); empty when nothing is left.
 */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** A DNS label from any text: lowercase letters, digits and `-`. */
function dnsLabel(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The pod of a task run, also its task ref: `pilotage-<task run id, lowercased>`. */
export function podNameFor(taskRunId: string): string {
  return `pilotage-${dnsLabel(taskRunId)}`;
}

/** The workspace claim of a run: `pilotage-ws-<run id, lowercased>`. */
export function claimNameFor(runId: string): string {
  return `pilotage-ws-${dnsLabel(runId)}`;
}

/** The ConfigMap holding a declared volume's initial data: `<pod>-<volume>`. */
export function configMapNameFor(podName: string, volume: string): string {
  return `${podName}-${dnsLabel(volume)}`.slice(0, 253);
}

/** The image pull Secret of a run for one registry: `pilotage-pull-<run id>-<registry>`. */
export function pullSecretNameFor(runId: string, registry: string): string {
  return `pilotage-pull-${dnsLabel(runId)}-${dnsLabel(registry)}`.slice(0, 253).replace(/-+$/, '');
}
