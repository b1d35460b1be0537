import type Docker from 'dockerode';
import type { Config } from '../config/config.js';
import { ConfigError } from '../domain/errors.js';
import { detectDockerEndpoint, dockerEndpointCandidates, dockerOptionsFor } from './docker/docker-connection.js';
import type { DockerEndpoint, DockerEnv } from './docker/docker-connection.js';
import type { DockerExecutorOptions } from './docker/docker-executor.js';
import { createOnDemandDockerExecutor, describeCandidates } from './docker/on-demand-docker-executor.js';
import { registryAuthFromSecrets } from './docker/registry-auth.js';
import type { Executor } from './executor.js';
import {
  createOnDemandKubernetesExecutor,
  kubernetesConfigured,
  kubernetesOptionsOf,
  loadKubernetesExecutor,
} from './kubernetes/configured-kubernetes.js';
import { createLocalExecutor } from './local/local-executor.js';
import { createHostWorkspaces } from './shared/host-workspaces.js';

/** The executors of an engine and the one used when neither a workflow nor an action names one. */
export interface ConfiguredExecutors {
  readonly executors: Executor[];
  readonly defaultName: string;
}

/** What `configuredExecutors` needs besides the config. */
export interface ExecutorSetup {
  /**
   * the engine's secrets (default: the config's), or a function reading them at each pull:
   * registry credentials are read from `REGISTRY_AUTH_<HOST>` (see registry-auth.ts)
   */
  readonly secrets?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  /** told which executor `auto` chose and why, and which endpoint an on-demand docker executor found */
  readonly info?: (message: string) => void;
  /** how long each Docker endpoint may take to answer `/_ping`, ms (default 1000) */
  readonly detectTimeoutMs?: number;
  /**
   * how the local executor tells a live engine process from a dead one when it looks for what
   * dead ones left (default: from /proc); replicas also count one whose lease expired as dead
   */
  readonly engineProcessAlive?: (identity: string) => Promise<boolean>;
  /** the local executor's `spawnerAfter` (see LocalExecutorOptions) */
  readonly spawnerAfter?: number;
  /** the local executor's `native` (see LocalExecutorOptions) */
  readonly native?: boolean;
}

/**
 * The executors the configuration asks for:
 * - `local`, always;
 * - `kubernetes`:
 *   - `executor: kubernetes`, or `auto` when the engine is set up for Kubernetes (it runs in a
 *     pod, or PILOTAGE_KUBERNETES_CONTEXT is set: `kubernetesConfigured`): connected at start
 *     (a missing kubeconfig or context is a ConfigError, and so is a missing advertised URL,
 *     which pods need to call back); the default.
 *   - otherwise available on demand (`createOnDemandKubernetesExecutor`).
 * - `docker`:
 *   - `executor: docker`: the first Docker Engine API endpoint that answers (DOCKER_HOST alone
 *     when it is set, else the usual sockets); a ConfigError naming every endpoint tried when
 *     none answers. Default `docker`.
 *   - `executor: auto`: the same probe; when an endpoint answers, docker is the default and
 *     `info` says which endpoint was chosen; otherwise local is, `info` says what was tried, and
 *     docker stays available on demand (a runtime started later is found at the first use).
 *   - any other default: docker is still available to workflows and actions that name it, on
 *     demand (see `createOnDemandDockerExecutor`): nothing is contacted until then.
 * Both get the config's `passEnv` and engine id (the local executor marks its processes with it,
 * to find what a dead engine left); the docker executor also the config's network, pull
 * policy, default image and kill grace, and registry credentials from `setup.secrets`.
 * Both make run workspaces as folders under the config's `workspaceRoot`.
 */
export async function configuredExecutors(config: Config, setup: ExecutorSetup = {}): Promise<ConfiguredExecutors> {
  const info = setup.info ?? (() => undefined);
  // one set of host folders: a run mixing local and docker actions shares one workspace
  const workspaces = createHostWorkspaces(config.workspaceRoot);
  const local = createLocalExecutor({
    killGraceMs: config.killGraceMs,
    passEnv: config.passEnv,
    engineId: config.engineId,
    workspaces,
    ...(setup.engineProcessAlive === undefined ? {} : { engineProcessAlive: setup.engineProcessAlive }),
    ...(setup.spawnerAfter === undefined ? {} : { spawnerAfter: setup.spawnerAfter }),
    ...(setup.native === undefined ? {} : { native: setup.native }),
  });
  const { dockerEnv, candidates } = dockerEndpointsOf(config);
  const secrets = setup.secrets ?? config.secrets;
  const dockerOptions: Omit<DockerExecutorOptions, 'dockerHost'> = {
    engineId: config.engineId,
    network: config.dockerNetwork,
    pullPolicy: config.dockerPullPolicy,
    killGraceMs: config.killGraceMs,
    passEnv: config.passEnv,
    registryAuth: registryAuthFromSecrets(secrets),
    dockerEnv,
    workspaces,
    ...(config.dockerDefaultImage === undefined ? {} : { defaultImage: config.dockerDefaultImage }),
  };

  const onDemand = (): Executor =>
    createOnDemandDockerExecutor({
      ...dockerOptions,
      candidates,
      dockerEnv,
      ...(setup.detectTimeoutMs === undefined ? {} : { detectTimeoutMs: setup.detectTimeoutMs }),
      onConnect: (endpoint) => info(`docker executor: using ${endpoint.dockerHost} (${endpoint.source})`),
    });
  const kubernetesOptions = kubernetesOptionsOf(config, secrets, info);
  const kubernetesOnDemand = (): Executor =>
    createOnDemandKubernetesExecutor(kubernetesOptions, kubernetesConfigured(config));
  if (config.executor === 'kubernetes' || (config.executor === 'auto' && kubernetesConfigured(config))) {
    if (config.advertiseUrl === undefined) {
      throw new ConfigError(
        `executor ${config.executor}: the kubernetes executor needs PILOTAGE_ADVERTISE_URL, the URL at which pods ` +
          'reach this engine (in a cluster, the URL of its Service)',
      );
    }
    const kubernetes = await loadKubernetesExecutor(kubernetesOptions);
    if (config.executor === 'auto') {
      const where = config.kubernetesServiceHost !== undefined ? 'in-cluster' : `context ${config.kubernetesContext}`;
      info(`executor auto: using kubernetes (${where}, namespace ${kubernetes.namespace})`);
    }
    return { executors: [local, onDemand(), kubernetes], defaultName: 'kubernetes' };
  }
  if (config.executor !== 'docker' && config.executor !== 'auto') {
    return { executors: [local, onDemand(), kubernetesOnDemand()], defaultName: config.executor };
  }

  const found = await detectDockerEndpoint(dockerEnv, setup.detectTimeoutMs, candidates);
  if (found === undefined) {
    if (config.executor === 'docker') throw noEndpoint('executor docker', candidates);
    info(`executor auto: no Docker Engine API answered (tried ${describeCandidates(candidates)}); using local`);
    return { executors: [local, onDemand(), kubernetesOnDemand()], defaultName: 'local' };
  }
  if (config.executor === 'auto') info(`executor auto: using docker at ${found.dockerHost} (${found.source})`);
  const { createDockerExecutor } = await import('./docker/docker-executor.js');
  const docker = createDockerExecutor({ ...dockerOptions, dockerHost: found.dockerHost });
  return { executors: [local, docker, kubernetesOnDemand()], defaultName: 'docker' };
}

/**
 * A Docker Engine API client for the configured endpoint (for `pilotage component build`): the
 * first of `dockerEndpointsOf(config)` that answers `/_ping`. Throws a ConfigError naming every
 * endpoint tried when none answers; `what` names the caller in that message.
 */
export async function connectConfiguredDocker(
  config: Config,
  what: string,
  detectTimeoutMs?: number,
): Promise<{ readonly docker: Docker; readonly endpoint: DockerEndpoint }> {
  const { dockerEnv, candidates } = dockerEndpointsOf(config);
  const endpoint = await detectDockerEndpoint(dockerEnv, detectTimeoutMs, candidates);
  if (endpoint === undefined) throw noEndpoint(what, candidates);
  const { default: Dockerode } = await import('dockerode');
  return { docker: new Dockerode(dockerOptionsFor(endpoint.dockerHost, dockerEnv)), endpoint };
}

/**
 * The Docker client settings of the config and the endpoints to try: DOCKER_HOST alone when it
 * is set (falling back to another runtime would surprise), else the usual sockets.
 */
function dockerEndpointsOf(config: Config): { dockerEnv: DockerEnv; candidates: DockerEndpoint[] } {
  const dockerEnv: DockerEnv = {
    ...(config.dockerHost === undefined ? {} : { DOCKER_HOST: config.dockerHost }),
    ...(config.dockerTlsVerify ? { DOCKER_TLS_VERIFY: '1' } : {}),
    ...(config.dockerCertPath === undefined ? {} : { DOCKER_CERT_PATH: config.dockerCertPath }),
    ...(config.runtimeDir === undefined ? {} : { XDG_RUNTIME_DIR: config.runtimeDir }),
  };
  const candidates: DockerEndpoint[] =
    config.dockerHost === undefined
      ? dockerEndpointCandidates(dockerEnv)
      : [{ dockerHost: config.dockerHost, source: 'DOCKER_HOST' }];
  return { dockerEnv, candidates };
}

function noEndpoint(what: string, candidates: readonly DockerEndpoint[]): ConfigError {
  return new ConfigError(
    `${what}: no Docker Engine API answered at ${describeCandidates(candidates)}; start Docker or ` +
      '`podman system service`, or set DOCKER_HOST to the endpoint',
  );
}
