import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import type { ReplicaOptions } from '../engine/engine.js';
import { currentEngineProcess, engineProcessAlive } from '../executor/local/process-mark.js';
import type { ReplicaRecord, ReplicaStore } from '../store/types.js';
import { ENGINE_VERSION } from '../version.js';

/** A replica id: `<engineId>/<random>`, new for every registration (it holds no pid: runs show it). */
export function newReplicaId(engineId: string): string {
  return `${engineId}/${randomBytes(6).toString('hex')}`;
}

/**
 * How an engine built from `config` takes part among replicas: its identity, its lease times and
 * room, and how it recognises, without waiting for the lease, a replica of the same engine id
 * whose process has died on this host (a `kill -9`, a crash: its runs move on at once).
 */
export function replicaOptions(config: Config, url: string | null): ReplicaOptions {
  return {
    identity: {
      engineId: config.engineId,
      host: hostname(),
      pid: process.pid,
      process: currentEngineProcess(),
      version: ENGINE_VERSION,
      url,
    },
    newId: () => newReplicaId(config.engineId),
    heartbeatMs: config.heartbeatMs,
    leaseTtlMs: config.leaseTtlMs,
    maxActiveRuns: config.maxActiveRuns,
    isGone: async (replica: ReplicaRecord) => {
      const identity = replica.process;
      if (replica.engineId !== config.engineId || identity === null || identity === currentEngineProcess())
        return false;
      return !(await engineProcessAlive(identity));
    },
  };
}

/**
 * Whether the engine process `identity` still counts as alive for the local executor's orphan
 * reaping: its process runs, and, if it registered as a replica, one of its registrations still
 * holds a lease. So a replica taking over the runs of one whose lease expired (paused, cut off
 * from the store) stops the local processes it left on this host before retrying them. A
 * process that never registered (an engine of an earlier version) counts as alive while it runs.
 */
export function leaseAwareProcessAlive(replicas: () => ReplicaStore): (identity: string) => Promise<boolean> {
  return async (identity) => {
    if (!(await engineProcessAlive(identity))) return false;
    let mine: ReplicaRecord[];
    try {
      mine = (await replicas().list()).filter((r) => r.process === identity);
    } catch {
      return true;
    }
    return mine.length === 0 || mine.some((r) => r.alive);
  };
}
