import { setMaxListeners } from 'node:events';
import { stat } from 'node:fs/promises';
import Docker from 'dockerode';
import type { ContainerInspectInfo, DockerOptions } from 'dockerode';
import { ExecutorError } from '../../domain/errors.js';
import { snapshotEnv } from '../shared/component-env.js';
import { DOCKER_DEFAULTS } from './docker-defaults.js';
import type { PullPolicy } from '../../plan/types.js';
import {
  executorStep,
  type Executor,
  type LogLine,
  type RunningRef,
  type TaskHandle,
  type TaskSpec,
} from '../executor.js';
import { freeLoopbackPort } from '../shared/free-port.js';
import { createHostWorkspaces, type HostWorkspaces } from '../shared/host-workspaces.js';
import { ContainerTask } from './container-task.js';
import { toContainerPlan } from './convert.js';
import type { ContainerPlan } from './convert.js';
import { dockerOptionsFor, isLocalClient } from './docker-connection.js';
import type { DockerEnv } from './docker-connection.js';
import { reasonOf, runtimeError, statusOf } from './docker-errors.js';
import { createImagePuller, imageFacts } from './image-puller.js';
import type { RegistryAuthProvider } from './image-puller.js';
import { LABELS, ownedLabels } from './labels.js';
import { callbackBaseUrlFor, containerEndpointUrl, endpointUrlFor } from './network-urls.js';
import { createVolumes, removeOwnedVolumes, seedMounts } from './volumes.js';

export { DOCKER_DEFAULTS } from './docker-defaults.js';

/** Options of `createDockerExecutor`. */
export interface DockerExecutorOptions {
  /** a dockerode client, or options for one; when absent, `dockerHost` is used */
  readonly docker?: Docker | DockerOptions;
  /** a DOCKER_HOST value (`unix:///path`, `tcp://host:port`); default DOCKER_DEFAULTS.dockerHost */
  readonly dockerHost?: string;
  /** TLS settings for a tcp `dockerHost` (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), passed in by the config */
  readonly dockerEnv?: DockerEnv;
  /** this engine's stable id: labels what it creates, so that `list()` finds only its own */
  readonly engineId: string;
  /** for components that set none; default `if-missing` */
  readonly pullPolicy?: PullPolicy;
  /** `host` (default: callbacks on loopback work on Linux) or a network name (`bridge`, `podman`) */
  readonly network?: string;
  /** default grace between the stop signal and SIGKILL, ms; default 10000 (whole seconds are used) */
  readonly killGraceMs?: number;
  /** registry credentials per image (from the secret store) */
  readonly registryAuth?: RegistryAuthProvider;
  /** image for components that name none (inline `run:` actions); without it they cannot start */
  readonly defaultImage?: string;
  /** base URL containers use for callbacks, overriding the rule of `callbackBaseUrl` */
  readonly callbackUrl?: string;
  /**
   * the engine's environment, of which containers inherit only what `passEnv` (this setting and
   * the workflow's) allows; default: this process's
   */
  readonly engineEnv?: Readonly<Record<string, string | undefined>>;
  /** names and `*` globs of the engine's environment every container inherits (the `passEnv` setting) */
  readonly passEnv?: readonly string[];
  /**
   * where run workspaces are made (folders on the engine's host, bind-mounted into the
   * containers; default: under the system's temp dir)
   */
  readonly workspaces?: HostWorkspaces;
}

/** The docker executor: the Executor interface, plus what its callers may use directly. */
export interface DockerExecutor extends Executor {
  /** the API client (for `buildComponentImage` and diagnostics) */
  readonly docker: Docker;
  /**
   * Executor.attach, with where to resume the logs: lines written from `sinceMs` (epoch ms,
   * at the runtime's timestamp resolution, whole seconds for Podman: a line of that second
   * may come twice) instead of from now.
   */
  attach(ref: string, onLog: (line: LogLine) => void, sinceMs?: number): Promise<TaskHandle | undefined>;
}

/**
 * Runs each task run as a container through the Docker Engine API (Docker, or Podman's
 * compatible service). The ref of a task is its container name, `pilotage-<task run id>`.
 * - a run's workspace is a folder on the engine's host (HostWorkspaces), bind-mounted into
 *   every container of the run at the same path; `releaseRun` removes it unless kept;
 * - start: image per pull policy (digest recorded in facts), per-task volumes created and
 *   seeded, container created (see `toContainerPlan`) and started, logs followed;
 * - the container is kept after it exits (its exit code and OOM flag are read by `wait()`),
 *   until `destroy(ref)` removes it with its volumes (and any seeding container left by a crash);
 * - list/attach find containers by the labels `dev.pilotage.managed` and `dev.pilotage.engine-id`,
 *   so a restarted engine re-acquires what it started; list also reports volumes whose
 *   container is gone, so that `destroy` can reclaim them;
 * - a component with an endpoint gets a free host port on the host network (CO_ENDPOINT_PORT),
 *   or keeps its declared port on another network (reached at the container's address).
 */
export function createDockerExecutor(options: DockerExecutorOptions): DockerExecutor {
  const dockerHost = options.dockerHost ?? DOCKER_DEFAULTS.dockerHost;
  const docker =
    options.docker instanceof Docker
      ? options.docker
      : new Docker(options.docker ?? dockerOptionsFor(dockerHost, options.dockerEnv ?? {}));
  const daemonIsLocal = isLocalClient(docker);
  const network = options.network ?? DOCKER_DEFAULTS.network;
  const killGraceMs = options.killGraceMs ?? DOCKER_DEFAULTS.killGraceMs;
  const defaultPullPolicy = options.pullPolicy ?? DOCKER_DEFAULTS.pullPolicy;
  const puller = createImagePuller(docker, options.registryAuth);
  const workspaces = options.workspaces ?? createHostWorkspaces();
  const closing = new AbortController();
  // Every running task listens on this signal (its wait and log requests).
  setMaxListeners(0, closing.signal);
  let limits: Promise<{ memory: boolean; cpu: boolean }> | undefined;
  // Containers get no base of the engine's environment: their image sets PATH, HOME and the rest.
  const envPolicy = { engineEnv: snapshotEnv(options.engineEnv), base: [], passEnv: options.passEnv ?? [] };
  /** refs started by this instance → whether the container is all there is to remove */
  const simple = new Map<string, boolean>();

  /** What the runtime can limit, asked once (`docker info`). */
  function runtimeLimits(): Promise<{ memory: boolean; cpu: boolean }> {
    limits ??= docker.info().then(
      (info: { MemoryLimit?: boolean; CpuCfsQuota?: boolean }) => ({
        memory: info.MemoryLimit !== false,
        cpu: info.CpuCfsQuota !== false,
      }),
      (error: unknown) => {
        limits = undefined;
        throw runtimeError('cannot query the container runtime', error);
      },
    );
    return limits;
  }

  function ours(labels: Readonly<Record<string, string>> | undefined): boolean {
    return labels?.[LABELS.managed] === 'true' && labels[LABELS.engineId] === options.engineId;
  }

  async function createContainer(plan: ContainerPlan, component: string): Promise<Docker.Container> {
    try {
      return await docker.createContainer(plan.options);
    } catch (error) {
      // Docker answers 409 to a name in use, Podman 500 with this message.
      const nameTaken = statusOf(error) === 409 || /already in use/.test(reasonOf(error));
      if (!nameTaken) throw runtimeError(`cannot create the container of ${component}`, error);
    }
    // A container of this task run is left from an interrupted start: replace it.
    await docker
      .getContainer(plan.name)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    try {
      return await docker.createContainer(plan.options);
    } catch (error) {
      throw runtimeError(`cannot create the container of ${component}`, error);
    }
  }

  async function start(spec: TaskSpec, onLog: (line: LogLine) => void): Promise<TaskHandle> {
    const component = `${spec.component.name}@${spec.component.version}`;
    const image = spec.component.image ?? options.defaultImage;
    if (image === undefined) {
      throw new ExecutorError(
        `component ${component} names no image: the docker executor needs one (set image: on the component or ` +
          `the inline action, or configure the executor's default image)`,
      );
    }
    const hostDir = spec.workspace.hostDir;
    if (hostDir === undefined) {
      throw new ExecutorError(`cannot start component ${component}: its workspace has no host folder to mount`);
    }
    if (daemonIsLocal) await assertDirectory(hostDir, component);
    const pulled = await executorStep(spec, 'image pull', () =>
      puller.ensure(image, spec.component.pullPolicy ?? defaultPullPolicy),
    );
    const can = await runtimeLimits();
    const endpoint = spec.component.endpoint;
    const endpointPort =
      endpoint === undefined ? undefined : network === 'host' ? await freeLoopbackPort() : endpoint.port;
    const plan = toContainerPlan(spec, {
      engineId: options.engineId,
      network,
      image,
      killGraceMs,
      ...(endpointPort === undefined ? {} : { endpointPort }),
      canLimitMemory: can.memory,
      canLimitCpu: can.cpu,
      envPolicy,
    });

    let container: Docker.Container;
    let endpointUrl: string | undefined;
    try {
      container = await executorStep(spec, 'container create', async () => {
        await createVolumes(docker, plan.volumes);
        await seedMounts(docker, image, plan.seeds, ownedLabels(options.engineId, spec, plan.name));
        return createContainer(plan, component);
      });
      const created = container;
      await executorStep(spec, 'container start', () =>
        created.start().catch((error: unknown) => {
          throw runtimeError(`cannot start component ${component}`, error);
        }),
      );
      if (endpoint !== undefined && endpointPort !== undefined) {
        // On the host network the URL is known; elsewhere it needs the container's address.
        endpointUrl =
          network === 'host'
            ? endpointUrlFor(network, endpoint, endpointPort)
            : containerEndpointUrl(await container.inspect(), network);
        if (endpointUrl === undefined) {
          throw new ExecutorError(`cannot start component ${component}: its container has no address on ${network}`);
        }
      }
    } catch (error) {
      await destroy(plan.name).catch(() => undefined);
      throw runtimeError(`cannot start component ${component}`, error);
    }
    simple.set(plan.name, plan.volumes.length === 0 && plan.seeds.length === 0);

    const facts: Record<string, string> = {
      container: container.id,
      image: pulled.image,
      imageId: pulled.imageId,
      imageDigest: pulled.imageDigest,
    };
    if (plan.warnings.length > 0) facts['warnings'] = plan.warnings.join('; ');
    return new ContainerTask(docker, container, {
      ref: plan.name,
      facts,
      ...(endpointUrl === undefined ? {} : { endpointUrl }),
      onLog,
      killGraceMs,
      signal: closing.signal,
    });
  }

  async function destroy(ref: string): Promise<void> {
    if (simple.get(ref) === true) {
      // Started by this instance with nothing beside the container: one call is enough.
      try {
        await docker.getContainer(ref).remove({ force: true, v: true });
      } catch (error) {
        if (statusOf(error) !== 404) throw runtimeError(`cannot remove container ${ref}`, error);
      }
      simple.delete(ref);
      return;
    }
    try {
      const leftovers = await docker.listContainers({ all: true, filters: { label: [`${LABELS.owner}=${ref}`] } });
      const names = [ref, ...leftovers.map((entry) => entry.Id)];
      for (const name of names) {
        const container = docker.getContainer(name);
        const info = await container.inspect().catch((error: unknown) => {
          if (statusOf(error) === 404) return undefined;
          throw error;
        });
        // Only what Pilotage created is ever removed: a ref is a name anyone could have taken.
        if (info === undefined || info.Config.Labels?.[LABELS.managed] !== 'true') continue;
        await container.remove({ force: true, v: true }).catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        });
      }
      await removeOwnedVolumes(docker, ref);
      simple.delete(ref);
    } catch (error) {
      throw runtimeError(`cannot remove container ${ref}`, error);
    }
  }

  async function list(): Promise<RunningRef[]> {
    const label = [`${LABELS.managed}=true`, `${LABELS.engineId}=${options.engineId}`];
    try {
      const refs = new Map<string, RunningRef>();
      for (const entry of await docker.listContainers({ all: true, filters: { label } })) {
        const labels = entry.Labels ?? {};
        if (!ours(labels)) continue;
        const owner = labels[LABELS.owner];
        const ref = owner ?? (entry.Names[0] ?? entry.Id).replace(/^\//, '');
        const running = owner === undefined && entry.State === 'running';
        const known = refs.get(ref);
        if (known !== undefined && (known.running || !running)) continue;
        refs.set(ref, {
          ref,
          runId: labels[LABELS.runId] ?? '',
          taskRunId: labels[LABELS.taskRunId] ?? '',
          running,
        });
      }
      const volumes = await docker.listVolumes({ filters: { label } });
      for (const volume of volumes.Volumes ?? []) {
        const labels = volume.Labels ?? {};
        const owner = labels[LABELS.owner];
        if (!ours(labels) || owner === undefined || refs.has(owner)) continue;
        refs.set(owner, {
          ref: owner,
          runId: labels[LABELS.runId] ?? '',
          taskRunId: labels[LABELS.taskRunId] ?? '',
          running: false,
        });
      }
      return [...refs.values()];
    } catch (error) {
      throw runtimeError('cannot list the containers of this engine', error);
    }
  }

  async function attach(
    ref: string,
    onLog: (line: LogLine) => void,
    sinceMs?: number,
  ): Promise<TaskHandle | undefined> {
    const container = docker.getContainer(ref);
    let info: ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw runtimeError(`cannot inspect container ${ref}`, error);
    }
    const labels = info.Config.Labels ?? {};
    if (!ours(labels) || labels[LABELS.owner] !== undefined) return undefined;
    const image = info.Config.Image;
    const pulled = await docker
      .getImage(info.Image)
      .inspect()
      .then(
        (inspected) => imageFacts(image, inspected),
        () => ({ image, imageId: info.Image, imageDigest: info.Image }),
      );
    const endpointUrl = containerEndpointUrl(info, network);
    return new ContainerTask(docker, container, {
      ref,
      facts: { container: info.Id, ...pulled, attached: 'true' },
      ...(endpointUrl === undefined ? {} : { endpointUrl }),
      onLog,
      killGraceMs,
      logsSinceSec: Math.floor((sinceMs ?? Date.now()) / 1000),
      signal: closing.signal,
      neverStarted: info.State.Status === 'created',
    });
  }

  return {
    name: 'docker',
    survivesEngine: true,
    docker,
    start,
    destroy,
    list,
    attach,
    prepareRun: (scope) => workspaces.prepare(scope.runId, scope.copyFrom),
    releaseRun: (runId, { keep }) => workspaces.release(runId, keep),
    async listRuns() {
      return [];
    },
    callbackBaseUrl(loopbackUrl, advertisedUrl) {
      return callbackBaseUrlFor(
        { network, daemonIsLocal, ...(options.callbackUrl === undefined ? {} : { callbackUrl: options.callbackUrl }) },
        loopbackUrl,
        advertisedUrl,
      );
    },
    async close() {
      // Ends the long-lived wait and log requests; the containers keep running.
      closing.abort();
    },
  };
}

async function assertDirectory(dir: string, component: string): Promise<void> {
  const isDirectory = await stat(dir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    throw new ExecutorError(`cannot start component ${component}: workspace ${dir} is not an accessible directory`);
  }
}
