import type { SinkLeaseStore } from '../types.js';
import type { StoreContext } from './store-context.js';

/**
 * `SinkLeaseStore` over Kysely (`sink_leases`): taking a lease is one upsert whose update only
 * applies when the row is ours or expired (`INSERT … ON CONFLICT (sink) DO UPDATE … WHERE`), so it
 * is atomic on SQLite and PostgreSQL alike without explicit locks.
 */
export class KyselySinkLeaseStore implements SinkLeaseStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  acquire(sink: string, owner: string, now: number, expiresAt: number, replacing?: string): Promise<boolean> {
    return this.#ctx.use(async (db) => {
      const result = await db
        .insertInto('sink_leases')
        .values({ sink, owner, expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .column('sink')
            .doUpdateSet({ owner, expires_at: expiresAt })
            .where((eb) =>
              eb.or([
                eb('sink_leases.owner', '=', owner),
                eb('sink_leases.expires_at', '<', now),
                ...(replacing === undefined ? [] : [eb('sink_leases.owner', '=', replacing)]),
              ]),
            ),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  release(sink: string, owner: string): Promise<void> {
    return this.#ctx.use(async (db) => {
      await db.deleteFrom('sink_leases').where('sink', '=', sink).where('owner', '=', owner).execute();
    });
  }

  holder(sink: string): Promise<{ owner: string; expiresAt: number } | undefined> {
    return this.#ctx.use(async (db) => {
      const row = await db
        .selectFrom('sink_leases')
        .select(['owner', 'expires_at'])
        .where('sink', '=', sink)
        .executeTakeFirst();
      return row === undefined ? undefined : { owner: row.owner, expiresAt: row.expires_at };
    });
  }
}
