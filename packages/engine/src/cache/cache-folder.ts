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
  const files: CacheFiles = {
    save(key, workspaceDir, paths) {
      return files.saveWith(key, paths, async (staging) => {
        for (const path of paths) {
          const source = join(workspaceDir, path);
          if (!(await exists(source))) continue;
          await mkdir(dirname(join(staging, path)), { recursive: true });
          await copyTree(source, join(staging, path));
        }
      });
    },
    async saveWith(key, paths, fill) {
      await mkdir(dir, { recursive: true });
      const temporary = join(dir, `${key}.${newId()}.tmp`);
      const saved: string[] = [];
      let bytes = 0;
      try {
        await mkdir(temporary, { recursive: true });
        await fill(temporary);
        for (const path of paths) {
          const size = await sizeOf(join(temporary, path));
          if (size === undefined) continue;
          saved.push(path);
          bytes += size;
        }
        await rm(join(dir, key), { recursive: true, force: true });
        await rename(temporary, join(dir, key));
      } finally {
        await rm(temporary, { recursive: true, force: true });
      }
      return { paths: saved, bytes };
    },
    restore(key, workspaceDir, paths) {
      return files.restoreWith(key, paths, async (entry) => {
        await Promise.all(
          paths.map(async (path) => {
            await mkdir(dirname(join(workspaceDir, path)), { recursive: true });
            await copyTree(join(entry, path), join(workspaceDir, path));
          }),
        );
      });
    },
    async restoreWith(key, paths, copy) {
      const present = await Promise.all(paths.map((path) => exists(join(dir, key, path))));
      if (present.includes(false)) return false;
      await copy(join(dir, key));
      return true;
    },
    async remove(keys) {
      await Promise.all(keys.map((key) => rm(join(dir, key), { recursive: true, force: true })));
    },
  };
  return files;
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
