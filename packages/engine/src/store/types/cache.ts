import type { JsonObject } from '../../domain/vocabulary.js';

/** The action cache area: what successful attempts left for later runs to reuse. */

/** One cache entry: the outputs (and saved workspace paths) of a successful attempt. */
export interface CacheEntryRecord {
  /** sha256 (hex) of the entry's scope and key: see engine/action-cache.ts */
  readonly key: string;
  readonly workflow: string;
  /** the task run's action name (a matrix combination's own name) */
  readonly action: string;
  /** the run and task run that made it */
  readonly runId: string;
  readonly taskRunId: string;
  /** the attempt's outputs, masked */
  readonly output: JsonObject;
  /** the workspace paths saved in the cache folder under `key` (empty: none) */
  readonly paths: readonly string[];
  /** bytes of the saved files */
  readonly sizeBytes: number;
  readonly createdAt: number;
  /** the last time a run reused it (its creation at first) */
  readonly lastUsedAt: number;
}

/** Which entries `list`/`clear` take; absent fields do not filter. */
export interface CacheFilter {
  readonly workflow?: string;
  readonly action?: string;
}

/**
 * Cache entries, shared by every engine replica of the store. Writes are single statements
 * (an entry is replaced whole), so concurrent writers never leave half an entry.
 */
export interface CacheStore {
  get(key: string): Promise<CacheEntryRecord | undefined>;
  /** Record `entry`, replacing one with the same key. */
  put(entry: CacheEntryRecord): Promise<void>;
  /** Note that a run reused the entry at `at`. */
  touch(key: string, at: number): Promise<void>;
  /** Entries, most recently used first, at most `limit` (default 100). */
  list(filter?: CacheFilter, limit?: number): Promise<CacheEntryRecord[]>;
  /** Remove the entries `filter` takes; returns them (their files are the caller's to remove). */
  clear(filter?: CacheFilter): Promise<CacheEntryRecord[]>;
  /** How many entries and bytes of files there are. */
  usage(): Promise<{ readonly entries: number; readonly bytes: number }>;
  /** Remove every entry not used since `before` (epoch ms); returns the removed keys. */
  expire(before: number): Promise<string[]>;
  /** Remove up to `count` least recently used entries; returns them. */
  evictOldest(count: number): Promise<CacheEntryRecord[]>;
}
