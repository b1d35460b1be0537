import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import type { ReplicaOptions } from '../engine/engine.js';
import { currentEngineProcess, engineProcessAlive } from '../executor/local/process-mark.js';
import type { ReplicaRecord, ReplicaStore } from '../store/types.js';
import { ENGINE_VERSION } from '../version.js';

/**
 * A replica id: `<engineId>/<pid>.<start time>/<random>`. The middle part is the engine process's
 * identity (the same as in the marks of its local processes, executor/local/process-mark.ts), so
 * that a replica on the same host can tell when the process behind an id has died.
 */
export function newReplicaId(engineId: string): string {
  return `${engineId}/${currentEngineProcess()}/${randomBytes(5).toString('hex')}`;
}

/** The engine process identity inside a replica id, if it has one. */
export function processOfReplica(id: string): string | undefined {
  const parts = id.split('/');
  return parts.length === 3 ? parts[1] : undefined;
}

/**
 * How an engine built from `config` takes part among replicas: its identity, its lease times and
 * room, and how it recognises, without waiting for the lease, a replica of the same engine id
 * whose process has died on this host (a `kill -9`, a crash: its runs move on at once).
 */
export function replicaOptions(config: Config, url: string | null): ReplicaOptions {
  return {
    identity: { engineId: config.engineId, host: hostname(), pid: process.pid, version: ENGINE_VERSION, url },
    newId: () => newReplicaId(config.engineId),
    heartbeatMs: config.heartbeatMs,
    leaseTtlMs: config.leaseTtlMs,
    maxActiveRuns: config.maxActiveRuns,
    isGone: async (replica: ReplicaRecord) => {
      if (replica.engineId !== config.engineId) return false;
      const process = processOfReplica(replica.id);
      return process !== undefined && process !== currentEngineProcess() && !(await engineProcessAlive(process));
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
      mine = (await replicas().list()).filter((r) => processOfReplica(r.id) === identity);
    } catch {
      return true;
    }
    return mine.length === 0 || mine.some((r) => r.alive);
  };
}
