import { sql, type Kysely, type Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * Several replicas on one store (issue 11):
 * - `replicas`: one row per engine process taking part, with its lease (`expires_at`, epoch ms by
 *   the database's clock), renewed by its heartbeat;
 * - `runs.owner`: the replica holding the run (SQL NULL: queued and unclaimed, or let go); a run's
 *   lease is its owner column plus its owner's replica lease, so one write per replica renews the
 *   leases of all its runs;
 * - `runs.max_runs`: the plan's `maxRuns`, so claiming checks the cap without reading the plan;
 * - `runs.cancel_requested`: a cancel asked on any replica, for the owner to act on;
 * - `parallel_slots`: the engine's `maxParallel` across the cluster, one row per slot, held by a
 *   replica for one task attempt.
 * Additive (the unfinished runs' caps are copied from their plans); see docs/operations.md for
 * upgrading replicas of the previous version.
 */
export function replicasMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('replicas')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('engine_id', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema.alterTable('runs').addColumn('owner', 'text').execute();
      await db.schema.alterTable('runs').addColumn('max_runs', 'integer').execute();
      await db.schema.alterTable('runs').addColumn('cancel_requested', 'text').execute();
      // runs left unfinished by the previous version keep their plan's cap
      await sql`update runs set max_runs = cast(${dialect.jsonText('plan', 'maxRuns')} as integer) where state in ('queued', 'running')`.execute(
        db,
      );
      // the per-workflow cap counts a workflow's queued and running runs
      await db.schema.createIndex('runs_workflow_state_idx').on('runs').columns(['workflow', 'state']).execute();
      // what a replica holds (intents, release)
      await db.schema.createIndex('runs_owner_idx').on('runs').columns(['owner', 'state']).execute();

      await db.schema
        .createTable('parallel_slots')
        .addColumn('slot', 'integer', (c) => c.primaryKey())
        .addColumn('owner', 'text')
        .addColumn('task_run_id', 'text')
        .addColumn('taken_at', 'bigint')
        .execute();
    },
  };
}
