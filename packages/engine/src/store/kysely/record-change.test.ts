import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { applyFreshSchema } from '../sqlite/fresh-schema.js';
import { FRESH_SCHEMA } from '../sqlite/fresh-schema.generated.js';
import { sqliteDialect } from '../sqlite/sqlite-dialect.js';
import type { NewOutboxEvent } from '../types.js';
import { recordChanges, type ChangeToRecord } from './record-change.js';
import type { StoreSchema } from './schema.js';

/** A fresh schema in memory, with the Kysely the store's writes run on. */
async function freshDb(): Promise<{ raw: Database.Database; db: Kysely<StoreSchema> }> {
  const raw = new Database(':memory:');
  assert.equal(await applyFreshSchema(raw, () => Promise.resolve(FRESH_SCHEMA)), true);
  return { raw, db: new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database: raw }) }) };
}

const change = (i: number): ChangeToRecord => ({
  entityId: `task-${i}`,
  from: i === 0 ? null : `s${i - 1}`,
  to: `s${i}`,
  at: 1000 + i,
  reason: i % 2 === 0 ? null : `because ${i}`,
});

const event = (i: number, runId: string | null): NewOutboxEvent => ({
  id: `event-${String(i).padStart(2, '0')}`,
  runId,
  type: `dev.cdevents.test.${i}`,
  payload: { i },
  createdAt: 2000 + i,
});

// the rows of a change are written a few per statement: every count, across the statements'
// limit, must give the same rows in the same order as one statement a row did
for (const count of [1, 2, 4, 5, 9]) {
  test(`recordChanges: ${count} transitions and ${count} events, in order, each run's events numbered on`, async () => {
    const { raw, db } = await freshDb();
    try {
      const changes = Array.from({ length: count }, (_, i) => change(i));
      // two runs interleaved, and one event of no run
      const events = Array.from({ length: count }, (_, i) =>
        event(i, i === count - 1 ? null : i % 2 ? 'run-b' : 'run-a'),
      );
      await db.transaction().execute((trx) => recordChanges(trx, sqliteDialect, changes.slice(0, 1)));
      await db.transaction().execute((trx) => recordChanges(trx, sqliteDialect, changes.slice(1), events));
      const transitions = raw
        .prepare('select entity_id, from_state, to_state, at, reason from transitions order by id')
        .all() as {
        entity_id: string;
        from_state: string | null;
        to_state: string;
        at: number;
        reason: string | null;
      }[];
      assert.deepEqual(
        transitions.map((t) => ({
          entityId: t.entity_id,
          from: t.from_state,
          to: t.to_state,
          at: t.at,
          reason: t.reason,
        })),
        changes,
      );
      const outbox = raw
        .prepare('select id, run_id, type, payload, created_at, run_seq from outbox order by seq')
        .all() as {
        id: string;
        run_id: string | null;
        type: string;
        payload: string;
        created_at: number;
        run_seq: number | null;
      }[];
      assert.deepEqual(
        outbox.map((o) => o.id),
        events.map((e) => e.id),
      );
      assert.deepEqual(
        outbox.map((o) => JSON.parse(o.payload)),
        events.map((e) => e.payload),
      );
      const seen = new Map<string, number>();
      for (const row of outbox) {
        if (row.run_id === null) {
          assert.equal(row.run_seq, null);
          continue;
        }
        const next = (seen.get(row.run_id) ?? 0) + 1;
        assert.equal(row.run_seq, next, `run_seq of ${row.id}`);
        seen.set(row.run_id, next);
      }
    } finally {
      await db.destroy();
    }
  });
}
