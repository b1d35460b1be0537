import { readdir, readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';
import { nativeSpawnAddon } from './native-spawn.js';

/**
 * Send `signal` to every process of group `pgid` (a detached child's pid). Returns false when
 * the group no longer exists (ESRCH) or is not ours (EPERM); other errors are thrown.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  const addon = nativeSpawnAddon();
  if (addon !== undefined) {
    // without an exception (and its stack trace) for the usual answer: no such group
    const errno = addon.signal(-pgid, signal === 0 ? 0 : osConstants.signals[signal]);
    if (errno === 0) return true;
    if (errno === osConstants.errno.ESRCH || errno === osConstants.errno.EPERM) return false;
    throw Object.assign(new Error(`kill ${getSystemErrorName(-errno)}`), {
      code: getSystemErrorName(-errno),
      errno: -errno,
      syscall: 'kill',
    });
  }
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Does group `pgid` still have a live member? A zombie does not count: where nobody reaps
 * orphans (a container whose PID 1 does not, or the engine itself running as PID 1) a killed
 * grandchild stays a zombie forever and `kill(-pgid, 0)` keeps answering yes. On Linux the
 * members' states are read from /proc; elsewhere `kill(-pgid, 0)` decides.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true;
  }
  const states = await Promise.all(
    entries.filter((name) => /^\d+$/.test(name)).map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')),
  );
  return states.some((stat) => {
    // "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X';
  });
}

/** Poll until group `pgid` has no live member; resolves false if `timeoutMs` passed first. */
export async function waitGroupGone(pgid: number, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await groupAlive(pgid))) return true;
    if (Date.now() >= deadline) return false;
    await delay(pollMs);
  }
}
