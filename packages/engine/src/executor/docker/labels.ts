/**
 * The labels the docker executor puts on what it creates (containers and volumes). `list()`,
 * `attach()` and `destroy()` find their things by them, so they are the recovery contract:
 * renaming one strands the containers of an engine that is upgraded mid-run.
 */
export const LABELS = {
  /** `true` on everything Pilotage created */
  managed: 'dev.pilotage.managed',
  /** the engine instance that created it (several engines may share one runtime) */
  engineId: 'dev.pilotage.engine-id',
  runId: 'dev.pilotage.run-id',
  taskRunId: 'dev.pilotage.task-run-id',
  workflow: 'dev.pilotage.workflow',
  stage: 'dev.pilotage.stage',
  action: 'dev.pilotage.action',
  attempt: 'dev.pilotage.attempt',
  /** `name@version` of the component */
  component: 'dev.pilotage.component',
  /** on volumes: the container name (task ref) they belong to, removed with it */
  owner: 'dev.pilotage.owner',
  /** the port the component listens on for its endpoint (to rebuild `endpointUrl` on attach) */
  endpointPort: 'dev.pilotage.endpoint-port',
  endpointPath: 'dev.pilotage.endpoint-path',
} as const;

/**
 * The labels of what belongs to a task's container besides the container itself (its volumes,
 * the containers that seed them): `destroy(owner)` and `list()` find them by these.
 */
export function ownedLabels(
  engineId: string,
  task: { readonly runId: string; readonly taskRunId: string },
  owner: string,
): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.engineId]: engineId,
    [LABELS.runId]: task.runId,
    [LABELS.taskRunId]: task.taskRunId,
    [LABELS.owner]: owner,
  };
}

/**
 * The container name, which is also the task ref: `pilotage-<task run id, lowercased>`.
 * Derived from the task run alone, so that `destroy(ref)` can find the task's volumes even once
 * the container is gone, and `docker ps` tells what each container is.
 */
export function containerNameFor(taskRunId: string): string {
  return `pilotage-${sanitize(taskRunId)}`;
}

/** The per-task volume for a declared volume: `<container name>-<volume name>`. */
export function volumeNameFor(containerName: string, volume: string): string {
  return `${containerName}-${sanitize(volume)}`;
}

/** Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; we also lowercase for readability. */
function sanitize(text: string): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
  return /^[a-z0-9]/.test(cleaned) ? cleaned : `x${cleaned}`;
}
