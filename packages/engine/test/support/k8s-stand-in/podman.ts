import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** Podman as root without systemd (see test/support/podman.ts). */
const GLOBAL_FLAGS = [
  ...(existsSync('/usr/sbin/runc') ? ['--runtime', '/usr/sbin/runc'] : []),
  '--cgroup-manager=cgroupfs',
  '--events-backend=file',
];

/** Label on every container the stand-in creates (`podman ps --filter label=...`). */
export const STAND_IN_LABEL = 'dev.pilotage.k8s-stand-in';

/**
 * Pod annotations by which a test asks the stand-in for what a real cluster does on its own:
 * - `delayMs`: bind the pod and start its container only this long after it was seen (a busy
 *   scheduler, a slow node), so that its log is asked for before it exists;
 * - `evict`: evict the running pod now, this value being the message (node pressure): the
 *   container is killed and the pod's status set to Failed/Evicted through the status subresource.
 */
export const STAND_IN_ANNOTATIONS = {
  delayMs: 'stand-in.pilotage.dev/delay-ms',
  evict: 'stand-in.pilotage.dev/evict',
} as const;

/** What this stand-in can do beyond running pods (a node annotation; tests check it). */
export const STAND_IN_FEATURES = 'pull,evict,delay';
export const STAND_IN_FEATURES_ANNOTATION = 'stand-in.pilotage.dev/features';

export interface PodmanResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Podman's conmon writes an empty `oom` file into its working directory when a container is
 * OOM-killed: run podman from the temp folder, never from the repository.
 */
const PODMAN_CWD = tmpdir();

/** Run one podman command to its end (killed after `timeoutMs` when given). */
export function podman(args: readonly string[], timeoutMs = 0): Promise<PodmanResult> {
  return new Promise((resolve) => {
    const options = { maxBuffer: 1 << 24, timeout: timeoutMs, cwd: PODMAN_CWD };
    execFile('podman', [...GLOBAL_FLAGS, ...args], options, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/** Start a long-running podman command (`start --attach`); its output is discarded. */
export function podmanChild(args: readonly string[]): ChildProcess {
  return spawn('podman', [...GLOBAL_FLAGS, ...args], { stdio: 'ignore', cwd: PODMAN_CWD });
}

/** What `podman inspect` says of a container's state. */
export interface ContainerState {
  readonly Running: boolean;
  readonly ExitCode: number;
  readonly OOMKilled: boolean;
  readonly StartedAt: string;
  readonly FinishedAt: string;
}

export async function inspectState(name: string): Promise<ContainerState | undefined> {
  const result = await podman(['inspect', name, '--format', '{{json .State}}']);
  return result.code === 0 ? (JSON.parse(result.stdout) as ContainerState) : undefined;
}

export async function logPathOf(name: string): Promise<string | undefined> {
  const result = await podman(['inspect', name, '--format', '{{.HostConfig.LogConfig.Path}}']);
  return result.code === 0 && result.stdout !== '' ? result.stdout : undefined;
}
