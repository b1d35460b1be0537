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

/** Run one podman command to its end. */
export function podman(args: readonly string[]): Promise<PodmanResult> {
  return new Promise((resolve) => {
    execFile('podman', [...GLOBAL_FLAGS, ...args], { maxBuffer: 1 << 24, cwd: PODMAN_CWD }, (error, stdout, stderr) => {
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
