import { posix } from 'node:path';
import type { V1ConfigMap, V1Container, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { ExecutorError } from '../../domain/errors.js';
import type { PullPolicy } from '../../plan/types.js';
import { parseCpuCores, parseMemoryBytes } from '../docker/parse-quantity.js';
import type { TaskSpec } from '../executor.js';
import { componentEnv, type ComponentEnvPolicy } from '../shared/component-env.js';
import { ANNOTATIONS, configMapNameFor, LABELS, labelValue, podNameFor } from './labels.js';
import { withStderrTag } from './stderr-tag.js';

/**
 * Where a component image keeps the component's own folder: a `command` whose first element
 * starts with `./` is resolved here, and `CO_COMPONENT_DIR` says so (as on docker).
 */
export const COMPONENT_DIR_IN_IMAGE = '/component';

/** The name of the component's container in its pod. */
export const CONTAINER_NAME = 'component';

/** The pod volume that holds the run's workspace. */
const WORKSPACE_VOLUME = 'workspace';

/** A declared volume with this name mounts the run's workspace (also) at its `mountPath`. */
const WORKSPACE_VOLUME_NAME = 'workspace';

export const PULL_POLICIES: Readonly<Record<PullPolicy, string>> = {
  always: 'Always',
  'if-missing': 'IfNotPresent',
  never: 'Never',
};

/** Facts of the executor that `toPodPlan` needs besides the spec. */
export interface PodSettings {
  readonly namespace: string;
  readonly engineId: string;
  /** the image to run: the component's, or the executor's default for image-less components */
  readonly image: string;
  /** for components that set none */
  readonly pullPolicy: PullPolicy;
  /** grace between SIGTERM and SIGKILL when the pod is deleted, ms (rounded up to seconds) */
  readonly killGraceMs: number;
  /** ServiceAccount of components that name none (absent: the namespace's default) */
  readonly serviceAccountName?: string;
  /** Secrets with registry credentials for this image, made from the secret store */
  readonly imagePullSecrets: readonly string[];
  /** what the component inherits from the engine's environment (see componentEnv) */
  readonly envPolicy: ComponentEnvPolicy;
}

/** Everything the executor creates for one task run, computed without I/O. */
export interface PodPlan {
  /** the pod's name, also the task ref */
  readonly name: string;
  readonly pod: V1Pod;
  /** ConfigMaps holding declared volumes' initial data, created before the pod */
  readonly configMaps: readonly V1ConfigMap[];
  /** what was asked but is done differently here, and why (recorded on the task run) */
  readonly warnings: readonly string[];
}

/**
 * Translate a task spec into the pod to create (pure; table-tested in pod.test.ts):
 * - one container `component`; `restartPolicy: Never`; the pod is named after the task run and
 *   labelled with the engine, run, task run, workflow, stage, action, attempt and component
 *   (exact names in annotations);
 * - image and pull policy (`always` → Always, `if-missing` → IfNotPresent, `never` → Never);
 * - `command` (`./x` → `/component/x`) and `args` as Kubernetes reads them (a command drops the
 *   image's cmd); a shell command runs through the stderr tag (stderr-tag.ts);
 * - env: `componentEnv` (the contract's variables, the component's, workflow's and action's,
 *   what `passEnv` lets through), then `CO_WORKSPACE` (the mount path), `CO_COMPONENT_DIR`,
 *   `CO_ENDPOINT_PORT` (the declared port: a pod has its own address);
 * - working dir: the component's (relative to the workspace) or the workspace;
 * - resources: `cpu` and `memory` as both requests and limits;
 * - `activeDeadlineSeconds` from the attempt's timeout, `terminationGracePeriodSeconds` from the
 *   kill grace;
 * - volumes: the run's workspace (its claim, or an `emptyDir` when the workspace has no claim)
 *   at its mount path; each declared volume an `emptyDir` of the pod, or, with `initialData`, a
 *   ConfigMap of its files mounted read-only; a volume named `workspace` mounts the workspace;
 * - the component's `kubernetes:` fields (already checked against their shapes at load):
 *   ServiceAccount, node selector, tolerations, affinity, spread constraints, pull Secrets,
 *   priority, runtime and scheduler names, pod and container security contexts, host aliases,
 *   DNS, extra labels and annotations; components get no API token and no Service variables
 *   unless they ask (`automountServiceAccountToken`, `enableServiceLinks`).
 * Throws ExecutorError for a spec that cannot become a pod (bad quantity, a user name instead of
 * a uid, clashing mounts, initial data for the workspace).
 */
export function toPodPlan(spec: TaskSpec, settings: PodSettings): PodPlan {
  const component = spec.component;
  const label = `${component.name}@${component.version}`;
  const fail = (why: string): never => {
    throw new ExecutorError(`cannot start component ${label}: ${why}`);
  };
  const name = podNameFor(spec.taskRunId);
  const k8s = component.kubernetes ?? {};
  const warnings: string[] = [];
  const workspaceMount = posix.resolve('/', spec.workspace.mountPath);

  const env: Record<string, string> = { ...componentEnv(spec, settings.envPolicy), CO_WORKSPACE: workspaceMount };
  const command = component.command ?? [];
  const fromFolder = component.dir !== undefined || command[0]?.startsWith('./') === true;
  if (fromFolder) env['CO_COMPONENT_DIR'] = COMPONENT_DIR_IN_IMAGE;
  if (component.endpoint !== undefined) env['CO_ENDPOINT_PORT'] = String(component.endpoint.port);

  const { volumes, mounts, configMaps } = planVolumes(spec, name, workspaceMount, settings, warnings, fail);

  const container: V1Container = {
    name: CONTAINER_NAME,
    image: settings.image,
    imagePullPolicy: PULL_POLICIES[component.pullPolicy ?? settings.pullPolicy],
    env: Object.entries(env).map(([key, value]) => ({ name: key, value })),
    workingDir:
      component.workingDir === undefined ? workspaceMount : posix.resolve(workspaceMount, component.workingDir),
    volumeMounts: mounts,
    ...resources(component.resources, fail),
  };
  if (command.length > 0) {
    const [first = '', ...rest] = command;
    const argv = [first.startsWith('./') ? posix.join(COMPONENT_DIR_IN_IMAGE, first) : first, ...rest];
    const full = [...argv, ...(component.args ?? [])];
    const wrapped = withStderrTag(full);
    if (wrapped !== full) {
      container.command = [...wrapped];
    } else {
      container.command = argv;
      container.args = [...(component.args ?? [])];
    }
  } else if (component.args !== undefined) {
    container.args = [...component.args];
  }
  if (component.endpoint !== undefined) {
    container.ports = [{ name: 'endpoint', containerPort: component.endpoint.port, protocol: 'TCP' }];
  }
  const securityContext = { ...userContext(component.user, fail), ...k8s.containerSecurityContext };
  if (Object.keys(securityContext).length > 0) container.securityContext = securityContext;

  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(k8s.labels ?? {})) {
    if (key.startsWith('pilotage.dev/')) warnings.push(`label ${key} is Pilotage's own: the component's is ignored`);
    else labels[key] = value;
  }
  Object.assign(labels, {
    [LABELS.managed]: 'true',
    [LABELS.engineId]: settings.engineId,
    [LABELS.runId]: spec.runId,
    [LABELS.taskRunId]: spec.taskRunId,
    [LABELS.workflow]: labelValue(spec.workflow),
    [LABELS.stage]: labelValue(spec.stage),
    [LABELS.action]: labelValue(spec.action),
    [LABELS.attempt]: String(spec.attempt),
    [LABELS.component]: labelValue(component.name),
  });
  const annotations: Record<string, string> = {
    ...k8s.annotations,
    [ANNOTATIONS.component]: label,
    [ANNOTATIONS.workflow]: spec.workflow,
    [ANNOTATIONS.stage]: spec.stage,
    [ANNOTATIONS.action]: spec.action,
    ...(component.endpoint === undefined ? {} : { [ANNOTATIONS.endpointPath]: component.endpoint.path }),
  };

  const pullSecrets = [...settings.imagePullSecrets, ...(k8s.imagePullSecrets ?? [])];
  const serviceAccountName = k8s.serviceAccountName ?? settings.serviceAccountName;
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: settings.namespace, labels, annotations },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
      terminationGracePeriodSeconds: Math.ceil(Math.max(0, settings.killGraceMs) / 1000),
      automountServiceAccountToken: k8s.automountServiceAccountToken ?? false,
      enableServiceLinks: k8s.enableServiceLinks ?? false,
      ...(serviceAccountName === undefined ? {} : { serviceAccountName }),
      ...(pullSecrets.length === 0 ? {} : { imagePullSecrets: pullSecrets.map((secret) => ({ name: secret })) }),
      ...passThrough(k8s),
      containers: [container],
      volumes,
    },
  };
  return { name, pod, configMaps, warnings };
}

/** The `kubernetes:` fields copied onto the pod spec as they are. */
function passThrough(k8s: NonNullable<TaskSpec['component']['kubernetes']>): Record<string, unknown> {
  const keys = [
    'nodeSelector',
    'tolerations',
    'affinity',
    'topologySpreadConstraints',
    'priorityClassName',
    'runtimeClassName',
    'schedulerName',
    'securityContext',
    'hostAliases',
    'dnsPolicy',
    'dnsConfig',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const key of keys) if (k8s[key] !== undefined) out[key] = structuredClone(k8s[key]);
  return out;
}

function planVolumes(
  spec: TaskSpec,
  podName: string,
  workspaceMount: string,
  settings: PodSettings,
  warnings: string[],
  fail: (why: string) => never,
): { volumes: V1Volume[]; mounts: V1VolumeMount[]; configMaps: V1ConfigMap[] } {
  const claim = spec.workspace.ref;
  const volumes: V1Volume[] = [
    claim === undefined
      ? { name: WORKSPACE_VOLUME, emptyDir: {} }
      : { name: WORKSPACE_VOLUME, persistentVolumeClaim: { claimName: claim } },
  ];
  const workspace: V1VolumeMount = { name: WORKSPACE_VOLUME, mountPath: workspaceMount };
  const mounts: V1VolumeMount[] = [workspace];
  const configMaps: V1ConfigMap[] = [];
  const targets = new Map<string, string>([[workspaceMount, 'the workspace']]);

  for (const volume of spec.component.volumes) {
    const target = posix.resolve(workspaceMount, volume.mountPath);
    const files = volume.initialData ?? {};
    const hasData = Object.keys(files).length > 0;
    if (volume.name === WORKSPACE_VOLUME_NAME) {
      if (hasData) fail('initialData on the workspace volume cannot be written on Kubernetes; use another volume');
      if (target === workspaceMount) {
        if (volume.readOnly === true) workspace.readOnly = true;
        continue;
      }
    }
    const other = targets.get(target);
    if (other !== undefined) fail(`volume "${volume.name}" and ${other} are both mounted at ${target}`);
    targets.set(target, `volume "${volume.name}"`);
    if (volume.name === WORKSPACE_VOLUME_NAME) {
      mounts.push({ name: WORKSPACE_VOLUME, mountPath: target, ...(volume.readOnly ? { readOnly: true } : {}) });
      continue;
    }
    const podVolume = `vol-${volume.name}`;
    if (hasData) {
      const mapName = configMapNameFor(podName, volume.name);
      const keys = Object.keys(files).sort();
      configMaps.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: mapName,
          namespace: settings.namespace,
          labels: {
            [LABELS.managed]: 'true',
            [LABELS.engineId]: settings.engineId,
            [LABELS.runId]: spec.runId,
            [LABELS.taskRunId]: spec.taskRunId,
            [LABELS.owner]: podName,
          },
        },
        // keys cannot hold `/`: numbered keys, mapped back to their paths by `items`
        data: Object.fromEntries(keys.map((file, i) => [`file-${i}`, files[file]!])),
      });
      volumes.push({
        name: podVolume,
        configMap: { name: mapName, items: keys.map((file, i) => ({ key: `file-${i}`, path: file })) },
      });
      if (volume.readOnly !== true) {
        warnings.push(`volume ${volume.name} holds initial data: on Kubernetes it is a read-only ConfigMap`);
      }
      mounts.push({ name: podVolume, mountPath: target, readOnly: true });
    } else {
      volumes.push({ name: podVolume, emptyDir: {} });
      mounts.push({ name: podVolume, mountPath: target, ...(volume.readOnly ? { readOnly: true } : {}) });
    }
  }
  return { volumes, mounts, configMaps };
}

function resources(
  wanted: TaskSpec['component']['resources'],
  fail: (why: string) => never,
): Pick<V1Container, 'resources'> {
  const amounts: Record<string, string> = {};
  const check = (parse: (text: string) => number, text: string): void => {
    try {
      parse(text);
    } catch (error) {
      fail((error as Error).message);
    }
  };
  if (wanted?.cpu !== undefined) {
    check(parseCpuCores, wanted.cpu);
    amounts['cpu'] = wanted.cpu;
  }
  if (wanted?.memory !== undefined) {
    check(parseMemoryBytes, wanted.memory);
    amounts['memory'] = wanted.memory;
  }
  return Object.keys(amounts).length === 0 ? {} : { resources: { requests: amounts, limits: { ...amounts } } };
}

/** `user: 1000` or `1000:1000` → runAsUser (and runAsGroup); a name cannot be set on a pod. */
function userContext(
  user: string | undefined,
  fail: (why: string) => never,
): { runAsUser?: number; runAsGroup?: number } {
  if (user === undefined) return {};
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) return fail(`user "${user}" is a name: a pod runs as a numeric uid (user: 1000 or 1000:1000)`);
  return { runAsUser: Number(match[1]), ...(match[2] === undefined ? {} : { runAsGroup: Number(match[2]) }) };
}
