import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { DockerOptions } from 'dockerode';
import { ConfigError } from '../../domain/errors.js';

/** The Docker Engine API endpoints tried by `detectDockerEndpoint`, after `DOCKER_HOST`. */
export const DEFAULT_DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/podman/podman.sock'] as const;

/** How long `detectDockerEndpoint` waits for each candidate's `/_ping`, ms. */
export const DETECT_TIMEOUT_MS = 1000;

/** An endpoint that answered, and where we found it. */
export interface DockerEndpoint {
  /** a DOCKER_HOST value: `unix:///path` or `tcp://host:port` */
  readonly dockerHost: string;
  readonly source: 'DOCKER_HOST' | 'docker socket' | 'podman user socket' | 'podman socket';
}

/** The environment variables the Docker client conventions use (passed in; never read here). */
export interface DockerEnv {
  readonly DOCKER_HOST?: string;
  readonly DOCKER_TLS_VERIFY?: string;
  readonly DOCKER_CERT_PATH?: string;
  readonly XDG_RUNTIME_DIR?: string;
}

/**
 * dockerode options for a DOCKER_HOST value: `unix:///path` (or a bare absolute path),
 * `tcp://host:port` (TLS when DOCKER_TLS_VERIFY=1 or port 2376, client certificates from
 * DOCKER_CERT_PATH), `http://` or `https://`. Anything else is a ConfigError.
 */
export function dockerOptionsFor(dockerHost: string, env: DockerEnv = {}): DockerOptions {
  if (dockerHost.startsWith('/')) return { socketPath: dockerHost };
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw new ConfigError(`invalid Docker host "${dockerHost}": expected unix:///path or tcp://host:port`);
  }
  if (url.protocol === 'unix:') {
    if (url.pathname === '') throw new ConfigError(`invalid Docker host "${dockerHost}": no socket path`);
    return { socketPath: decodeURIComponent(url.pathname) };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `unsupported Docker host "${dockerHost}": use unix:///path, tcp://host:port, http:// or https://`,
    );
  }
  const tls = url.protocol === 'https:' || env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: DockerOptions = {
    host,
    port: url.port === '' ? (tls ? 2376 : 2375) : Number(url.port),
    protocol: tls ? 'https' : 'http',
  };
  if (tls && env.DOCKER_CERT_PATH !== undefined && env.DOCKER_CERT_PATH !== '') {
    try {
      options.ca = readFileSync(join(env.DOCKER_CERT_PATH, 'ca.pem'));
      options.cert = readFileSync(join(env.DOCKER_CERT_PATH, 'cert.pem'));
      options.key = readFileSync(join(env.DOCKER_CERT_PATH, 'key.pem'));
    } catch (error) {
      throw new ConfigError(
        `cannot read the Docker TLS certificates in ${env.DOCKER_CERT_PATH} (ca.pem, cert.pem, key.pem): ${(error as Error).message}`,
      );
    }
  }
  return options;
}

/**
 * Whether a DOCKER_HOST value designates a runtime on this machine (a unix socket, or tcp to a
 * loopback address): only then does the container's host network share our loopback.
 */
export function isLocalDockerHost(dockerHost: string): boolean {
  if (dockerHost.startsWith('/') || dockerHost.startsWith('unix:')) return true;
  try {
    const host = new URL(dockerHost).hostname.replace(/^\[(.*)\]$/, '$1');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** Whether a client talks to a runtime on this machine (unix socket, or tcp to a loopback address). */
export function isLocalClient(docker: Docker): boolean {
  const modem = docker.modem as { socketPath?: unknown; host?: unknown };
  if (typeof modem.socketPath === 'string' && modem.socketPath !== '') return true;
  return (
    typeof modem.host === 'string' &&
    isLocalDockerHost(`tcp://${modem.host.includes(':') ? `[${modem.host}]` : modem.host}`)
  );
}

/**
 * The endpoints `detectDockerEndpoint` tries, in order: DOCKER_HOST (when set), the Docker
 * socket, Podman's rootless socket ($XDG_RUNTIME_DIR/podman/podman.sock, when XDG_RUNTIME_DIR is
 * set) and Podman's rootful socket. Pure.
 */
export function dockerEndpointCandidates(env: DockerEnv): DockerEndpoint[] {
  const candidates: DockerEndpoint[] = [];
  if (env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '') {
    candidates.push({ dockerHost: env.DOCKER_HOST, source: 'DOCKER_HOST' });
  }
  candidates.push({ dockerHost: `unix://${DEFAULT_DOCKER_SOCKETS[0]}`, source: 'docker socket' });
  if (env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '') {
    candidates.push({
      dockerHost: `unix://${join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock')}`,
      source: 'podman user socket',
    });
  }
  candidates.push({ dockerHost: `unix://${DEFAULT_DOCKER_SOCKETS[1]}`, source: 'podman socket' });
  return candidates;
}

/**
 * For executor selection `auto`: the first Docker Engine API endpoint that answers `/_ping`
 * within `timeoutMs` (default DETECT_TIMEOUT_MS), among `candidates` (default
 * `dockerEndpointCandidates(env)`). Undefined when none answers. Never throws (an invalid
 * DOCKER_HOST is just skipped).
 */
export async function detectDockerEndpoint(
  env: DockerEnv,
  timeoutMs: number = DETECT_TIMEOUT_MS,
  candidates: readonly DockerEndpoint[] = dockerEndpointCandidates(env),
): Promise<DockerEndpoint | undefined> {
  for (const candidate of candidates) {
    if (await answersPing(candidate.dockerHost, env, timeoutMs)) return candidate;
  }
  return undefined;
}

/** Whether the endpoint answers `GET /_ping` with OK within `timeoutMs`. Never throws. */
export async function answersPing(dockerHost: string, env: DockerEnv, timeoutMs: number): Promise<boolean> {
  let options: DockerOptions;
  try {
    options = dockerOptionsFor(dockerHost, env);
  } catch {
    return false;
  }
  // dockerode (and its gRPC, SSH and tar dependencies) loads only when a runtime is contacted
  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode({ ...options, timeout: timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const answer = docker.ping().then(
      (body) => String(body).trim() === 'OK',
      () => false,
    );
    return await Promise.race([answer, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
