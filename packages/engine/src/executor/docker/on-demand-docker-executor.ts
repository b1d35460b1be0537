import { ExecutorError } from '../../domain/errors.js';
import type { Executor } from '../executor.js';
import { detectDockerEndpoint, isLocalDockerHost } from './docker-connection.js';
import type { DockerEndpoint, DockerEnv } from './docker-connection.js';
import { DOCKER_DEFAULTS } from './docker-defaults.js';
import type { DockerExecutor, DockerExecutorOptions } from './docker-executor.js';
import { callbackBaseUrlFor } from './network-urls.js';
import { createHostWorkspaces } from '../shared/host-workspaces.js';

/** Options of `createOnDemandDockerExecutor`. */
export interface OnDemandDockerOptions extends Omit<DockerExecutorOptions, 'docker' | 'dockerHost' | 'dockerEnv'> {
  /** the endpoints to try, in order (see `dockerEndpointCandidates`); at least one */
  readonly candidates: readonly DockerEndpoint[];
  /** TLS settings for tcp endpoints */
  readonly dockerEnv: DockerEnv;
  /** how long each candidate may take to answer `/_ping`, ms (default: DETECT_TIMEOUT_MS) */
  readonly detectTimeoutMs?: number;
  /** told once, when an endpoint answered */
  readonly onConnect?: (endpoint: DockerEndpoint) => void;
}

/**
 * The docker executor for an engine whose default is another one: nothing is contacted until
 * it is needed (a workflow or action says `executor: docker`, or recovery lists containers).
 * Then the first candidate that answers `/_ping` is used for good. While none answers:
 * - `start` rejects with a retryable ExecutorError naming every endpoint tried (the task run
 *   becomes `errored` with that reason);
 * - `list` is [], `attach` undefined and `destroy` does nothing (there is nothing to reach);
 * - run workspaces are host folders, made and removed without a connection;
 * detection is tried again at the next call.
 * `callbackBaseUrl` answers before any connection from the first candidate (the one used when
 * it answers), then from the connected executor.
 */
export function createOnDemandDockerExecutor(options: OnDemandDockerOptions): Executor {
  const { candidates, dockerEnv, detectTimeoutMs, onConnect, ...executorOptions } = options;
  const first = candidates[0];
  if (first === undefined) throw new ExecutorError('the docker executor needs at least one endpoint to try');
  let connected: DockerExecutor | undefined;
  let connecting: Promise<DockerExecutor | undefined> | undefined;
  let closed = false;
  // Host folders need no runtime: a run's workspace is made without connecting.
  const workspaces = executorOptions.workspaces ?? createHostWorkspaces();

  function connect(): Promise<DockerExecutor | undefined> {
    if (connected !== undefined) return Promise.resolve(connected);
    connecting ??= detectDockerEndpoint(dockerEnv, detectTimeoutMs, candidates)
      .then(async (endpoint) => {
        if (endpoint === undefined || closed) return undefined;
        // the docker executor (dockerode and all it loads) only once a runtime answered
        const { createDockerExecutor } = await import('./docker-executor.js');
        connected = createDockerExecutor({
          ...executorOptions,
          workspaces,
          dockerHost: endpoint.dockerHost,
          dockerEnv,
        });
        onConnect?.(endpoint);
        return connected;
      })
      .finally(() => {
        connecting = undefined;
      });
    return connecting;
  }

  return {
    name: 'docker',
    survivesEngine: true,
    async start(spec, onLog) {
      const executor = await connect();
      if (executor === undefined) {
        throw new ExecutorError(
          `the docker executor is not available: no Docker Engine API answered at ${describeCandidates(candidates)}; ` +
            'start Docker or `podman system service`, or set DOCKER_HOST',
          { retryable: true },
        );
      }
      return executor.start(spec, onLog);
    },
    async destroy(ref) {
      await (await connect())?.destroy(ref);
    },
    async list() {
      return (await connect())?.list() ?? [];
    },
    async attach(ref, onLog, sinceMs) {
      return (await connect())?.attach(ref, onLog, sinceMs);
    },
    prepareRun: (scope) => workspaces.prepare(scope.runId, scope.copyFrom),
    releaseRun: (runId, { keep }) => workspaces.release(runId, keep),
    async listRuns() {
      return [];
    },
    callbackBaseUrl(loopbackUrl, advertisedUrl) {
      if (connected !== undefined) return connected.callbackBaseUrl(loopbackUrl, advertisedUrl);
      return callbackBaseUrlFor(
        {
          network: executorOptions.network ?? DOCKER_DEFAULTS.network,
          daemonIsLocal: isLocalDockerHost(first.dockerHost),
          ...(executorOptions.callbackUrl === undefined ? {} : { callbackUrl: executorOptions.callbackUrl }),
        },
        loopbackUrl,
        advertisedUrl,
      );
    },
    async close() {
      closed = true;
      await connected?.close();
    },
  };
}

/** `unix:///var/run/docker.sock (docker socket), …` — what was tried, for messages. */
export function describeCandidates(candidates: readonly DockerEndpoint[]): string {
  return candidates.map((candidate) => `${candidate.dockerHost} (${candidate.source})`).join(', ');
}
