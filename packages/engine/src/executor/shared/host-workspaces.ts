import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutorError } from '../../domain/errors.js';
import type { RunWorkspace } from '../executor.js';

/** Where run workspaces go when an executor is built without a root (library use, tests). */
export const DEFAULT_WORKSPACE_ROOT = join(tmpdir(), 'pilotage-workspaces');

/**
 * Run workspaces as folders `<root>/<run id>` on the engine's host, the run-scoped resource of
 * the local executor and of the docker executor on a local runtime (which bind-mounts it). One
 * instance may serve both, so that a run mixing them shares one folder.
 */
export interface HostWorkspaces {
  readonly root: string;
  /** create the run's folder (idempotent: an existing one and its content are kept) */
  prepare(runId: string): Promise<RunWorkspace>;
  /** remove the run's folder unless `keep`; a missing folder is fine */
  release(runId: string, keep: boolean): Promise<void>;
}

/** Host workspaces under `root`. */
export function createHostWorkspaces(root: string = DEFAULT_WORKSPACE_ROOT): HostWorkspaces {
  const dirOf = (runId: string): string => {
    // a run id is a ULID; anything else could escape the root
    if (!/^[0-9A-Za-z_-]+$/.test(runId)) throw new ExecutorError(`not a run id: ${JSON.stringify(runId)}`);
    return join(root, runId);
  };
  return {
    root,
    async prepare(runId) {
      const dir = dirOf(runId);
      try {
        await mkdir(dir, { recursive: true });
      } catch (error) {
        throw new ExecutorError(`cannot create the workspace ${dir}: ${(error as Error).message}`, { cause: error });
      }
      return { mountPath: dir, hostDir: dir };
    },
    async release(runId, keep) {
      if (!keep) await rm(dirOf(runId), { recursive: true, force: true });
    },
  };
}
