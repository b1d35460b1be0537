import { posix } from 'node:path';
import type { ContainerCreateOptions, MountSettings } from 'dockerode';
import { ExecutorError } from '../../domain/errors.js';
import type { TaskSpec } from '../executor.js';
import { componentEnv, type ComponentEnvPolicy, INHERIT_NOTHING } from '../shared/component-env.js';
import { containerNameFor, LABELS, ownedLabels, volumeNameFor } from './labels.js';
import { parseCpuCores, parseMemoryBytes } from './parse-quantity.js';

/**
 * Where a component image keeps the component's own folder (its program, scripts). The
 * Dockerfiles of our components `COPY . /component`; a `command` whose first element starts
 * with `./` is resolved here, and `CO_COMPONENT_DIR` says so.
 */
export const COMPONENT_DIR_IN_IMAGE = '/component';

/** A workspace path inside containers (tests mount a host folder there). */
export const CONTAINER_WORKSPACE_MOUNT = '/workspace';

/**
 * A declared volume with this name is not a volume of its own: it is the run's workspace,
 * mounted (also) at the volume's `mountPath`. This is how a component.yaml says where it wants
 * the workspace.
 */
export const WORKSPACE_VOLUME_NAME = 'workspace';

/** Facts of the executor and runtime that `toContainerPlan` needs besides the spec. */
export interface ContainerSettings {
  readonly engineId: string;
  /** `host` (the component shares the host's network) or the name of a network */
  readonly network: string;
  /** the image to run: the component's, or the executor's default for image-less components */
  readonly image: string;
  /** grace between the polite stop signal and SIGKILL, ms (container `StopTimeout`, rounded up to s) */
  readonly killGraceMs: number;
  /** the port the component must listen on for its endpoint; required when it declares one */
  readonly endpointPort?: number;
  /** the runtime can enforce a memory limit (`docker info`: MemoryLimit) */
  readonly canLimitMemory: boolean;
  /** the runtime can enforce a CPU limit (`docker info`: CpuCfsQuota) */
  readonly canLimitCpu: boolean;
  /** what the container inherits of the engine's environment (no base: the image sets its own); default nothing */
  readonly envPolicy?: ComponentEnvPolicy;
}

/** Files to write into a mount before the container starts (a volume's `initialData`). */
export interface PlannedSeed {
  /** the same source as the component's mount, mounted read-write for the seeding */
  readonly mount: MountSettings;
  readonly files: Readonly<Record<string, string>>;
}

/** A named volume to create before the container (per task run, removed by `destroy`). */
export interface PlannedVolume {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Everything the executor creates for one task run, computed without I/O. */
export interface ContainerPlan {
  /** container name, also the task ref */
  readonly name: string;
  readonly options: ContainerCreateOptions;
  readonly volumes: readonly PlannedVolume[];
  readonly seeds: readonly PlannedSeed[];
  /** limits requested but not applied, and why (recorded on the task run) */
  readonly warnings: readonly string[];
}

/**
 * Translate a task spec into the container to create (pure; table-tested):
 * - env: what `settings.envPolicy` lets through of the engine's environment (`passEnv` only),
 *   the component's env, then `spec.env`, then what only the executor knows:
 *   `CO_WORKSPACE` (the mount path), `CO_COMPONENT_DIR` (/component) for components from a
 *   folder or with a `./` command, `CO_ENDPOINT_PORT` for components with an endpoint;
 * - `command` overrides the image's entrypoint (`./x` → `/component/x`) and `args` its cmd
 *   (with a command and no args, the image's cmd is dropped, as `docker run --entrypoint` does);
 * - working dir: the component's (relative to the workspace) or the workspace;
 * - mounts: the run's workspace folder (`spec.workspace.hostDir`) bound at its `mountPath`; each declared volume
 *   as a per-task named volume `<container>-<volume>` (or the workspace, for one named
 *   `workspace`), with its initial data to seed;
 * - resources: memory to bytes, cpu to NanoCpus; a limit the runtime cannot enforce is left
 *   out with a warning instead of failing the start;
 * - labels for recovery (see LABELS); no AutoRemove: the exit code must survive the exit.
 * Throws ExecutorError for a spec that cannot become a container (bad quantity, clashing mounts,
 * endpoint without a port).
 */
export function toContainerPlan(spec: TaskSpec, settings: ContainerSettings): ContainerPlan {
  const component = spec.component;
  const label = `${component.name}@${component.version}`;
  const name = containerNameFor(spec.taskRunId);
  const fail = (why: string): never => {
    throw new ExecutorError(`cannot start component ${label}: ${why}`);
  };
  const warnings: string[] = [];
  const workspaceMount = posix.resolve('/', spec.workspace.mountPath);

  const env: Record<string, string> = {
    ...componentEnv({ ...spec, env: { ...component.env, ...spec.env } }, settings.envPolicy ?? INHERIT_NOTHING),
    CO_WORKSPACE: workspaceMount,
  };
  const command = component.command ?? [];
  const fromFolder = component.dir !== undefined || command[0]?.startsWith('./') === true;
  if (fromFolder) env['CO_COMPONENT_DIR'] = COMPONENT_DIR_IN_IMAGE;

  const labels: Record<string, string> = {
    [LABELS.managed]: 'true',
    [LABELS.engineId]: settings.engineId,
    [LABELS.runId]: spec.runId,
    [LABELS.taskRunId]: spec.taskRunId,
    [LABELS.workflow]: spec.workflow,
    [LABELS.stage]: spec.stage,
    [LABELS.action]: spec.action,
    [LABELS.attempt]: String(spec.attempt),
    [LABELS.component]: label,
  };
  if (component.endpoint !== undefined) {
    const port = settings.endpointPort ?? fail('it declares an endpoint but no port was chosen for it');
    env['CO_ENDPOINT_PORT'] = String(port);
    labels[LABELS.endpointPort] = String(port);
    labels[LABELS.endpointPath] = component.endpoint.path;
  }

  const { mounts, volumes, seeds } = planMounts(spec, name, workspaceMount, settings.engineId, fail);

  const options: ContainerCreateOptions = {
    name,
    Image: settings.image,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: labels,
    WorkingDir:
      component.workingDir === undefined ? workspaceMount : posix.resolve(workspaceMount, component.workingDir),
    Tty: false,
    OpenStdin: false,
    StopTimeout: Math.ceil(Math.max(0, settings.killGraceMs) / 1000),
    HostConfig: {
      NetworkMode: settings.network,
      Mounts: mounts,
      AutoRemove: false,
      ...resourceLimits(spec, settings, warnings, fail),
    },
  };
  if (command.length > 0) {
    const [first = '', ...rest] = command;
    const file = first.startsWith('./') ? posix.join(COMPONENT_DIR_IN_IMAGE, first) : first;
    options.Entrypoint = [file, ...rest];
    options.Cmd = [...(component.args ?? [])];
  } else if (component.args !== undefined) {
    options.Cmd = [...component.args];
  }
  if (component.user !== undefined) options.User = component.user;
  return { name, options, volumes, seeds, warnings };
}

function planMounts(
  spec: TaskSpec,
  containerName: string,
  workspaceMount: string,
  engineId: string,
  fail: (why: string) => never,
): { mounts: MountSettings[]; volumes: PlannedVolume[]; seeds: PlannedSeed[] } {
  const hostDir = spec.workspace.hostDir ?? fail('its workspace has no host folder to mount');
  const workspace: MountSettings = { Type: 'bind', Source: hostDir, Target: workspaceMount };
  const mounts: MountSettings[] = [workspace];
  const volumes: PlannedVolume[] = [];
  const seeds: PlannedSeed[] = [];
  const targets = new Map<string, string>([[workspaceMount, 'the workspace']]);

  for (const volume of spec.component.volumes) {
    const target = posix.resolve(workspaceMount, volume.mountPath);
    const isWorkspace = volume.name === WORKSPACE_VOLUME_NAME;
    let mount: MountSettings;
    if (isWorkspace && target === workspaceMount) {
      // The workspace is already mounted there; the declaration may only make it read-only.
      if (volume.readOnly === true) workspace.ReadOnly = true;
      mount = workspace;
    } else {
      const other = targets.get(target);
      if (other !== undefined) fail(`volume "${volume.name}" and ${other} are both mounted at ${target}`);
      targets.set(target, `volume "${volume.name}"`);
      if (isWorkspace) {
        mount = { Type: 'bind', Source: hostDir, Target: target };
      } else {
        const name = volumeNameFor(containerName, volume.name);
        volumes.push({ name, labels: ownedLabels(engineId, spec, containerName) });
        mount = { Type: 'volume', Source: name, Target: target };
      }
      if (volume.readOnly === true) mount.ReadOnly = true;
      mounts.push(mount);
    }
    if (volume.initialData !== undefined && Object.keys(volume.initialData).length > 0) {
      seeds.push({
        mount: { Type: mount.Type, Source: mount.Source, Target: mount.Target },
        files: volume.initialData,
      });
    }
  }
  return { mounts, volumes, seeds };
}

function resourceLimits(
  spec: TaskSpec,
  settings: ContainerSettings,
  warnings: string[],
  fail: (why: string) => never,
): { Memory?: number; NanoCpus?: number } {
  const resources = spec.component.resources;
  const limits: { Memory?: number; NanoCpus?: number } = {};
  const parse = (parser: (text: string) => number, text: string): number => {
    try {
      return parser(text);
    } catch (error) {
      return fail((error as Error).message);
    }
  };
  if (resources?.memory !== undefined) {
    const bytes = parse(parseMemoryBytes, resources.memory);
    if (settings.canLimitMemory) limits.Memory = bytes;
    else warnings.push(`memory limit ${resources.memory} not applied: the container runtime cannot limit memory`);
  }
  if (resources?.cpu !== undefined) {
    const cores = parse(parseCpuCores, resources.cpu);
    if (settings.canLimitCpu) limits.NanoCpus = Math.round(cores * 1e9);
    else warnings.push(`cpu limit ${resources.cpu} not applied: the container runtime cannot limit cpu`);
  }
  return limits;
}
