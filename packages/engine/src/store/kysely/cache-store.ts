import type { Selectable } from 'kysely';
import type { JsonObject } from '../../domain/vocabulary.js';
import type { CacheEntryRecord, CacheFilter, CacheStore } from '../types.js';
import type { CacheEntriesTable } from './schema.js';
import type { StoreContext } from './store-context.js';

const DEFAULT_LIMIT = 100;

/** `CacheStore` over Kysely; see the interface for the contract. */
export class KyselyCacheStore implements CacheStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  get(key: string): Promise<CacheEntryRecord | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db.selectFrom('cache_entries').selectAll().where('key', '=', key).executeTakeFirst();
      return row === undefined ? undefined : this.#record(row);
    });
  }

  put(entry: CacheEntryRecord): Promise<void> {
    const { dialect } = this.#ctx;
    const row = {
      key: entry.key,
      workflow: entry.workflow,
      action: entry.action,
      run_id: entry.runId,
      task_run_id: entry.taskRunId,
      output: dialect.encodeJson(entry.output),
      paths: dialect.encodeJson(entry.paths),
      size_bytes: entry.sizeBytes,
      created_at: entry.createdAt,
      last_used_at: entry.lastUsedAt,
    };
    return this.#ctx.use(async (db) => {
      const { key: _key, ...update } = row;
      await db
        .insertInto('cache_entries')
        .values(row)
        .onConflict((oc) => oc.column('key').doUpdateSet(update))
        .execute();
    });
  }

  touch(key: string, at: number): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db.updateTable('cache_entries').set({ last_used_at: at }).where('key', '=', key).execute();
    });
  }

  list(filter: CacheFilter = {}, limit = DEFAULT_LIMIT): Promise<CacheEntryRecord[]> {
    return this.#ctx.use(async (db) => {
      let query = db.selectFrom('cache_entries').selectAll();
      if (filter.workflow !== undefined) query = query.where('workflow', '=', filter.workflow);
      if (filter.action !== undefined) query = query.where('action', '=', filter.action);
      const rows = await query.orderBy('last_used_at', 'desc').orderBy('key').limit(limit).execute();
      return rows.map((row) => this.#record(row));
    });
  }

  clear(filter: CacheFilter = {}): Promise<CacheEntryRecord[]> {
    return this.#ctx.use((db) =>
      db.transaction().execute(async (trx) => {
        let query = trx.deleteFrom('cache_entries');
        if (filter.workflow !== undefined) query = query.where('workflow', '=', filter.workflow);
        if (filter.action !== undefined) query = query.where('action', '=', filter.action);
        const rows = await query.returningAll().execute();
        return rows.map((row) => this.#record(row));
      }),
    );
  }

  usage(): Promise<{ entries: number; bytes: number }> {
    return this.#ctx.use(async (db) => {
      // PostgreSQL answers count and sum of a bigint as strings
      const row = await db
        .selectFrom('cache_entries')
        .select((eb) => [
          eb.fn.countAll<number | string>().as('entries'),
          eb.fn.sum<number | string | null>('size_bytes').as('bytes'),
        ])
        .executeTakeFirstOrThrow();
      return { entries: Number(row.entries), bytes: Number(row.bytes ?? 0) };
    });
  }

  expire(before: number): Promise<string[]> {
    return this.#ctx.use(async (db) => {
      const rows = await db.deleteFrom('cache_entries').where('last_used_at', '<', before).returning('key').execute();
      return rows.map((row) => row.key);
    });
  }

  evictOldest(count: number): Promise<CacheEntryRecord[]> {
    return this.#ctx.use(async (db) => {
      const oldest = db.selectFrom('cache_entries').select('key').orderBy('last_used_at').orderBy('key').limit(count);
      const rows = await db.deleteFrom('cache_entries').where('key', 'in', oldest).returningAll().execute();
      return rows.map((row) => this.#record(row));
    });
  }

  #record(row: Selectable<CacheEntriesTable>): CacheEntryRecord {
    const { dialect } = this.#ctx;
    return {
      key: row.key,
      workflow: row.workflow,
      action: row.action,
      runId: row.run_id,
      taskRunId: row.task_run_id,
      output: dialect.decodeJson(row.output) as JsonObject,
      paths: dialect.decodeJson(row.paths) as string[],
      sizeBytes: Number(row.size_bytes),
      createdAt: Number(row.created_at),
      lastUsedAt: Number(row.last_used_at),
    };
  }
}
