import { sql } from 'kysely';
import type { NewReplica, ReplicaRecord, ReplicaStore } from '../types.js';
import type { StoreContext } from './store-context.js';

/** `ReplicaStore` over Kysely (`replicas`); lease times by the database's clock. */
export class KyselyReplicaStore implements ReplicaStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  register(replica: NewReplica, ttlMs: number): Promise<void> {
    const now = this.#ctx.dialect.nowMs();
    return this.#ctx.use(async (db) => {
      const row = {
        id: replica.id,
        engine_id: replica.engineId,
        host: replica.host,
        pid: replica.pid,
        process: replica.process,
        version: replica.version,
        url: replica.url,
        started_at: now,
        heartbeat_at: now,
        expires_at: sql<number>`${now} + ${ttlMs}`,
      };
      await db
        .insertInto('replicas')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet(row))
        .execute();
    });
  }

  renew(id: string, ttlMs: number): Promise<boolean> {
    const now = this.#ctx.dialect.nowMs();
    return this.#ctx.use(async (db) => {
      // never revives an expired lease: its runs may be changing hands already
      const result = await db
        .updateTable('replicas')
        .set({ heartbeat_at: now, expires_at: sql<number>`${now} + ${ttlMs}` })
        .where('id', '=', id)
        .where('expires_at', '>=', now)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  release(id: string): Promise<void> {
    return this.#ctx.use(async (db) => {
      // one millisecond before now, whatever the clocks: expired for everyone at once
      await db
        .updateTable('replicas')
        .set({ expires_at: sql<number>`${this.#ctx.dialect.nowMs()} - 1` })
        .where('id', '=', id)
        .execute();
    });
  }

  list(): Promise<ReplicaRecord[]> {
    const now = this.#ctx.dialect.nowMs();
    return this.#ctx.use(async (db) => {
      const rows = await db
        .selectFrom('replicas')
        .selectAll('replicas')
        .select((eb) => [
          sql<number>`case when ${eb.ref('replicas.expires_at')} >= ${now} then 1 else 0 end`.as('alive'),
          eb
            .selectFrom('runs')
            .select((inner) => inner.fn.countAll<number | string>().as('n'))
            .whereRef('runs.owner', '=', 'replicas.id')
            .where('runs.state', 'in', ['queued', 'running'])
            .as('runs'),
        ])
        .execute();
      return rows
        .map((r) => ({
          id: r.id,
          engineId: r.engine_id,
          host: r.host,
          pid: r.pid,
          process: r.process,
          version: r.version,
          url: r.url,
          startedAt: r.started_at,
          heartbeatAt: r.heartbeat_at,
          expiresAt: r.expires_at,
          alive: Number(r.alive) === 1,
          runs: Number(r.runs ?? 0),
        }))
        .sort((a, b) => Number(b.alive) - Number(a.alive) || a.startedAt - b.startedAt || a.id.localeCompare(b.id));
    });
  }

  prune(olderThanMs: number): Promise<number> {
    const now = this.#ctx.dialect.nowMs();
    return this.#ctx.use(async (db) => {
      const result = await db
        .deleteFrom('replicas')
        .where('expires_at', '<', sql<number>`${now} - ${olderThanMs}`)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('runs')
                .select('runs.id')
                .whereRef('runs.owner', '=', 'replicas.id')
                .where('runs.state', 'in', ['queued', 'running']),
            ),
          ),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
