import { constants, copyFile, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { newId } from '../domain/ids.js';
import type { CacheFiles } from '../engine/ports.js';

/**
 * The action cache's files in a folder on this machine: `<dir>/<key>/<path>` per saved path.
 * A save is written to a temporary folder and renamed into place, so a reader never sees half
 * an entry. Keys are hex digests (safe as folder names); paths were checked at load to stay
 * inside the workspace.
 */
export function createCacheFolder(dir: string): CacheFiles {
  return {
    async save(key, workspaceDir, paths) {
      await mkdir(dir, { recursive: true });
      const temporary = join(dir, `${key}.${newId()}.tmp`);
      const saved: string[] = [];
      let bytes = 0;
      try {
        for (const path of paths) {
          const source = join(workspaceDir, path);
          const size = await sizeOf(source);
          if (size === undefined) continue;
          await mkdir(dirname(join(temporary, path)), { recursive: true });
          await copyTree(source, join(temporary, path));
          saved.push(path);
          bytes += size;
        }
        await mkdir(temporary, { recursive: true });
        await rm(join(dir, key), { recursive: true, force: true });
        await rename(temporary, join(dir, key));
      } finally {
        await rm(temporary, { recursive: true, force: true });
      }
      return { paths: saved, bytes };
    },
    async restore(key, workspaceDir, paths) {
      const present = await Promise.all(paths.map((path) => exists(join(dir, key, path))));
      if (present.includes(false)) return false;
      await Promise.all(
        paths.map(async (path) => {
          await mkdir(dirname(join(workspaceDir, path)), { recursive: true });
          await copyTree(join(dir, key, path), join(workspaceDir, path));
        }),
      );
      return true;
    },
    async remove(keys) {
      await Promise.all(keys.map((key) => rm(join(dir, key), { recursive: true, force: true })));
    },
  };
}

/**
 * Copy a file or folder tree: folders created, files copied (a copy-on-write clone where the file
 * system can), symlinks recreated as they are, existing files replaced. Siblings in parallel: a
 * cache hit is on a run's path (`fs.cp` took 3–4x longer for a folder of ten small files).
 */
async function copyTree(from: string, to: string): Promise<void> {
  const stats = await lstat(from);
  if (stats.isDirectory()) {
    await mkdir(to, { recursive: true });
    const names = await readdir(from);
    await Promise.all(names.map((name) => copyTree(join(from, name), join(to, name))));
  } else if (stats.isSymbolicLink()) {
    await rm(to, { force: true });
    await symlink(await readlink(from), to);
  } else {
    await copyFile(from, to, constants.COPYFILE_FICLONE);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes of a file or folder tree (symlinks count as themselves), or undefined when missing. */
async function sizeOf(path: string): Promise<number | undefined> {
  let stats;
  try {
    stats = await lstat(path);
  } catch {
    return undefined;
  }
  if (!stats.isDirectory()) return stats.size;
  let total = 0;
  for (const name of await readdir(path)) total += (await sizeOf(join(path, name))) ?? 0;
  return total;
}
