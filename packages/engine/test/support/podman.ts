import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type Docker from 'dockerode';
import { LABELS } from '../../src/executor/docker/labels.js';

/** A Podman API service (Docker Engine API compatible) on its own socket in a temp dir. */
export interface PodmanService {
  readonly socketPath: string;
  /** `unix://<socketPath>`, a DOCKER_HOST value */
  readonly dockerHost: string;
  /** Stop the service and remove its temp dir. Containers are not touched. Safe to repeat. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'apt-get install podman runc busybox-static uidmap slirp4netns fuse-overlayfs';
const SYSTEM_CONF = '/etc/containers/containers.conf';
/** Without this, podman asks for ulimits that a container-in-a-container host refuses. */
const CONF_TEXT = '[containers]\ndefault_ulimits = []\n';
const READY_TIMEOUT_MS = 20_000;

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Why the Podman suites cannot run here, or undefined when they can. Under CI=true a missing
 * Podman is not a reason to skip: it throws, so that the suite fails loudly.
 */
export function podmanSkipReason(): string | undefined {
  const missing: string[] = [];
  if (onPath('podman') === undefined) missing.push('podman');
  if (!existsSync('/bin/busybox') && onPath('busybox') === undefined) missing.push('busybox');
  if (missing.length === 0) return undefined;
  const reason = `${missing.join(' and ')} not found; ${INSTALL_HINT}`;
  if (process.env['CI'] === 'true') throw new Error(`the Podman test suites need Podman in CI: ${reason}`);
  return reason;
}

/** The global flags that make Podman work in a container without systemd (see DEVELOPERS.md). */
export function podmanGlobalFlags(): string[] {
  const flags = ['--cgroup-manager=cgroupfs', '--events-backend=file'];
  if (existsSync('/usr/sbin/runc')) flags.unshift('--runtime', '/usr/sbin/runc');
  return flags;
}

/**
 * Make sure Podman's containers.conf sets `default_ulimits = []`: written to
 * /etc/containers/containers.conf when it is absent or lacks the key and we may write it;
 * otherwise a private file given through CONTAINERS_CONF. Returns extra env for podman.
 */
async function ensureContainersConf(dir: string): Promise<Record<string, string>> {
  const current = existsSync(SYSTEM_CONF) ? readFileSync(SYSTEM_CONF, 'utf8') : undefined;
  if (current !== undefined && /^\s*default_ulimits\s*=/m.test(current)) return {};
  let text = CONF_TEXT;
  if (current !== undefined) {
    text = /^\s*\[containers\]\s*$/m.test(current)
      ? current.replace(/^(\s*\[containers\]\s*)$/m, `$1\ndefault_ulimits = []`)
      : `${current.trimEnd()}\n\n${CONF_TEXT}`;
  }
  try {
    await writeFile(SYSTEM_CONF, text);
    return {};
  } catch {
    const own = join(dir, 'containers.conf');
    await writeFile(own, text);
    return { CONTAINERS_CONF: own };
  }
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Start `podman system service` on a socket in a new temp dir and wait until it answers
 * `/_ping`. Throws (with Podman's stderr) if it does not come up. Callers check
 * `podmanSkipReason()` first.
 */
export async function startPodmanService(): Promise<PodmanService> {
  const reason = podmanSkipReason();
  if (reason !== undefined) throw new Error(`cannot start the Podman service: ${reason}`);
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-podman-'));
  const socketPath = join(dir, 'podman.sock');
  const env = { ...process.env, ...(await ensureContainersConf(dir)) };
  const child = spawn('podman', [...podmanGlobalFlags(), 'system', 'service', '--time=0', `unix://${socketPath}`], {
    env,
    // conmon writes an empty `oom` file into its working directory when a container is
    // OOM-killed: keep it in the service's temp dir, never in the repository.
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  child.on('error', (error) => {
    stderr += `\n${error.message}`;
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited(child);
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await ping(socketPath))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not come up on ${socketPath}:\n${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { socketPath, dockerHost: `unix://${socketPath}`, stop };
}

/**
 * What the docker executor left for a run: the names of containers (any state) and volumes
 * labelled with its run id. Empty when everything was cleaned up.
 */
export async function leftoversOfRun(docker: Docker, runId: string): Promise<string[]> {
  const label = [`${LABELS.runId}=${runId}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  return [
    ...containers.map((entry) => `container ${(entry.Names[0] ?? entry.Id).replace(/^\//, '')} (${entry.State})`),
    ...volumes.map((volume) => `volume ${volume.Name}`),
  ];
}

/** Remove every container and volume labelled with `engineId` (a failed test's leftovers). */
export async function removeEngineLeftovers(docker: Docker, engineId: string): Promise<void> {
  const label = [`${LABELS.engineId}=${engineId}`];
  for (const entry of await docker.listContainers({ all: true, filters: { label } })) {
    await docker
      .getContainer(entry.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  }
  for (const volume of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) {
    await docker
      .getVolume(volume.Name)
      .remove()
      .catch(() => undefined);
  }
}
