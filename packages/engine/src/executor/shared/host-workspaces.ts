import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutorError, messageOf } from '../../domain/errors.js';
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
  /**
   * Create the run's folder (idempotent: an existing one and its content are kept). With
   * `copyFrom`, a folder made by this call is a copy of that run's folder, when there is one
   * (the contract of `Executor.prepareRun`, item 7).
   */
  prepare(runId: string, copyFrom?: string): Promise<RunWorkspace>;
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
  /** the prefix of the folders a copy is made in before it becomes the run's (never a run id: it starts with a dot) */
  const copyPrefix = (runId: string): string => `.${runId}.copying-`;

  /**
   * Copy `source` into a fresh folder beside `dir`, then rename it to `dir`: a crash mid-copy
   * leaves no half workspace. When another caller made `dir` first, theirs wins.
   */
  async function copyInto(dir: string, source: string, runId: string, copyFrom: string): Promise<boolean> {
    const partial = join(root, `${copyPrefix(runId)}${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(root, { recursive: true });
      await cp(source, partial, {
        recursive: true,
        preserveTimestamps: true,
        verbatimSymlinks: true,
        errorOnExist: true,
      });
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      throw new ExecutorError(
        `cannot copy the workspace of run ${copyFrom} (${source}) for run ${runId}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    try {
      await rename(partial, dir);
      return true;
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      if (await isDirectory(dir)) return false;
      throw new ExecutorError(`cannot create the workspace ${dir}: ${messageOf(error)}`, { cause: error });
    }
  }

  return {
    root,
    async prepare(runId, copyFrom) {
      const dir = dirOf(runId);
      if (copyFrom !== undefined && !(await isDirectory(dir))) {
        const source = dirOf(copyFrom);
        if ((await isDirectory(source)) && (await copyInto(dir, source, runId, copyFrom))) {
          return { mountPath: dir, hostDir: dir, copiedFrom: copyFrom };
        }
      }
      try {
        await mkdir(dir, { recursive: true });
      } catch (error) {
        throw new ExecutorError(`cannot create the workspace ${dir}: ${messageOf(error)}`, { cause: error });
      }
      return { mountPath: dir, hostDir: dir };
    },
    async release(runId, keep) {
      if (keep) return;
      await rm(dirOf(runId), { recursive: true, force: true });
      // what a copy interrupted by a crash left
      const names = await readdir(root).catch(() => [] as string[]);
      const prefix = copyPrefix(runId);
      for (const name of names) {
        if (name.startsWith(prefix)) await rm(join(root, name), { recursive: true, force: true });
      }
    },
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
