import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Who a delivery worker is when it takes sink leases (`SinkLeaseStore`, store/types/events.ts),
 * and how long a lease lasts.
 */

/** Default lease length, ms: longer than an HTTP sink's default request timeout (10 s). */
export const SINK_LEASE_TTL_MS = 30_000;

/** Who a worker is when it takes leases, and how it recognises a crashed predecessor. */
export interface LeaseIdentity {
  /** `<engineId>/<pid>/<random>`: unique per worker */
  readonly owner: string;
  /**
   * True for an owner known to be gone: a worker of the same engine id (so the same host and
   * store) whose process no longer runs. Its lease is taken at once instead of after it expires,
   * so an engine restarted after a crash delivers without waiting out the old lease.
   */
  readonly isGone: (owner: string) => boolean;
}

/**
 * The lease identity of a worker in this process. `engineId` is the configured engine id
 * (stable per host and store, see config.ts); `alive` tells whether a pid runs (default: signal 0,
 * with Linux zombies counted as gone).
 */
export function localLeaseIdentity(engineId: string, alive: (pid: number) => boolean = processAlive): LeaseIdentity {
  const owner = `${engineId}/${process.pid}/${randomBytes(6).toString('hex')}`;
  return {
    owner,
    isGone(other) {
      const parts = other.split('/');
      if (parts.length !== 3 || parts[0] !== engineId || other === owner) return false;
      const pid = Number(parts[1]);
      return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid);
    },
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it runs under another user
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // a zombie (killed, not yet reaped by its parent) is as good as gone
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
