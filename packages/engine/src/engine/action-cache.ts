import { messageOf } from '../domain/errors.js';
import type { JsonObject } from '../domain/vocabulary.js';
import type { CacheEntryRecord, CacheFilter, CacheStore, TaskRunRecord } from '../store/types.js';
import type { CacheFiles } from './ports.js';

/**
 * Where an action's cached paths are restored to and saved from: the run's workspace as a folder
 * of this host (`''` when the action caches no paths), or a workspace its executor copies to and
 * from (`Executor.copyPaths`: a Kubernetes claim).
 */
export type CacheTarget =
  | { readonly dir: string }
  | { readonly copy: (into: 'workspace' | 'host', dir: string, paths: readonly string[]) => Promise<void> };

/** Limits of the action cache. */
export interface CacheLimits {
  /** most bytes of saved files; least recently used entries are removed past it */
  readonly maxBytes: number;
  /** entries unused for this long are removed, ms */
  readonly maxAgeMs: number;
}

/**
 * The action result cache: entries in the store (outputs, saved paths, last use), files in the
 * cache folder (`CacheFiles`). Shared by every replica of the store. A successful attempt is
 * saved; a later attempt with the same key is recorded `succeeded` from it without starting
 * anything. Failed attempts are never saved.
 */
export class ActionCache {
  constructor(
    private readonly store: CacheStore,
    private readonly files: CacheFiles,
    private readonly limits: CacheLimits,
    private readonly clock: () => number,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * The entry for `key`, with its files restored into the workspace; undefined on a miss. An
   * entry that saved other paths than `paths` (the action's `cache.paths` changed) is a miss.
   */
  async lookup(key: string, target: CacheTarget, paths: readonly string[]): Promise<CacheEntryRecord | undefined> {
    const entry = await this.store.get(key);
    if (entry === undefined || !entry.paths.every((path) => paths.includes(path))) return undefined;
    // the folder may be another replica's, or evicted meanwhile: then it is a miss
    if (entry.paths.length > 0) {
      const restored =
        'dir' in target
          ? await this.files.restore(key, target.dir, entry.paths)
          : await this.files.restoreWith(key, entry.paths, (dir) => target.copy('workspace', dir, entry.paths));
      if (!restored) return undefined;
    }
    await this.store.touch(key, this.clock());
    return entry;
  }

  /** Save a successful attempt's outputs (masked) and paths as entry `key`, then evict. */
  async save(
    key: string,
    task: Pick<TaskRunRecord, 'id' | 'runId' | 'action'> & { readonly workflow: string },
    output: JsonObject,
    target: CacheTarget,
    paths: readonly string[],
  ): Promise<void> {
    const saved =
      paths.length === 0
        ? { paths: [], bytes: 0 }
        : 'dir' in target
          ? await this.files.save(key, target.dir, paths)
          : await this.files.saveWith(key, paths, (dir) => target.copy('host', dir, paths));
    const at = this.clock();
    await this.store.put({
      key,
      workflow: task.workflow,
      action: task.action,
      runId: task.runId,
      taskRunId: task.id,
      output,
      paths: saved.paths,
      sizeBytes: saved.bytes,
      createdAt: at,
      lastUsedAt: at,
    });
    await this.evict();
  }

  /** Entries, most recently used first. */
  list(filter: CacheFilter = {}, limit?: number): Promise<CacheEntryRecord[]> {
    return this.store.list(filter, limit);
  }

  /** Remove the entries `filter` takes (all by default) and their files; returns how many. */
  async clear(filter: CacheFilter = {}): Promise<number> {
    const removed = await this.store.clear(filter);
    await this.files.remove(removed.map((entry) => entry.key));
    return removed.length;
  }

  /** Entries unused for `maxAgeMs`, then the least recently used while over `maxBytes`. */
  private async evict(): Promise<void> {
    try {
      const expired = await this.store.expire(this.clock() - this.limits.maxAgeMs);
      await this.files.remove(expired);
      for (let usage = await this.store.usage(); usage.bytes > this.limits.maxBytes && usage.entries > 0;) {
        const oldest = await this.store.evictOldest(Math.max(1, Math.ceil(usage.entries / 10)));
        await this.files.remove(oldest.map((entry) => entry.key));
        usage = await this.store.usage();
      }
    } catch (error) {
      this.warn(`action cache: eviction failed: ${messageOf(error)}`);
    }
  }
}
