import { sql, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * Per-run event order (issue 11): `outbox.run_seq` numbers a run's events 1, 2, 3… in the order
 * they commit, from a per-run counter (`run_event_seqs`) that every transaction writing a run's
 * events increments under its row lock, so a run's outbox writes are serialised. The counter
 * lives in its own table, not in `runs`: task-run writes share-lock the run's row (owner guard),
 * and two of them upgrading to an update of that row would deadlock. The unique index makes a
 * broken serialisation an error rather than a silent reorder. Existing events are numbered in
 * `seq` order.
 */
export function runEventOrderMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('run_event_seqs')
        .addColumn('run_id', 'text', (c) => c.primaryKey())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('outbox').addColumn('run_seq', 'bigint').execute();
      await sql`
        update outbox set run_seq = numbered.n
        from (select seq, row_number() over (partition by run_id order by seq) as n
              from outbox where run_id is not null) as numbered
        where outbox.seq = numbered.seq`.execute(db);
      await sql`
        insert into run_event_seqs (run_id, last_seq)
        select run_id, max(run_seq) from outbox where run_id is not null group by run_id`.execute(db);
      await db.schema.createIndex('outbox_run_seq_idx').unique().on('outbox').columns(['run_id', 'run_seq']).execute();
    },
  };
}
