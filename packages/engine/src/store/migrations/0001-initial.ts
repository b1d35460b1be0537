import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * The first schema: runs, task runs, their statuses and logs, state transitions, the event
 * outbox and its per-sink deliveries, and per-workflow run counters.
 * Every index below serves a query in `../kysely/*-store.ts`.
 */
export function initialMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const json = dialect.jsonType;
      await db.schema
        .createTable('workflow_counters')
        .addColumn('workflow', 'text', (c) => c.primaryKey())
        .addColumn('last_number', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workflow', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('workflow_version', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('previous_state', 'text')
        .addColumn('inputs', json, (c) => c.notNull())
        .addColumn('plan', json, (c) => c.notNull())
        .addColumn('trigger_info', json, (c) => c.notNull())
        .addColumn('chain_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addUniqueConstraint('runs_workflow_number_key', ['workflow', 'number'])
        .execute();
      // list(): newest first, optionally per workflow or per state; listByState()
      await db.schema.createIndex('runs_workflow_id_idx').on('runs').columns(['workflow', 'id']).execute();
      await db.schema.createIndex('runs_state_id_idx').on('runs').columns(['state', 'id']).execute();

      await db.schema
        .createTable('task_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('previous_state', 'text')
        .addColumn('component', 'text', (c) => c.notNull())
        .addColumn('executor', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text')
        .addColumn('event_data', json, (c) => c.notNull())
        .addColumn('output', json, (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('message', 'text')
        .addColumn('reason', 'text')
        .addColumn('exit_code', 'integer')
        .addColumn('ref', 'text')
        .addColumn('facts', json, (c) => c.notNull())
        .addColumn('steps', json, (c) => c.notNull())
        .addColumn('log_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('status_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('task_runs_run_id_idx')
        .on('task_runs')
        .columns(['run_id', 'created_at', 'id'])
        .execute();
      // several NULLs are allowed by a unique index on both dialects
      await db.schema.createIndex('task_runs_token_hash_key').unique().on('task_runs').column('token_hash').execute();

      await dialect
        .clustered(
          db.schema
            .createTable('statuses')
            .addColumn('task_run_id', 'text', (c) => c.notNull().references('task_runs.id').onDelete('cascade'))
            .addColumn('seq', 'integer', (c) => c.notNull())
            .addColumn('at', 'bigint', (c) => c.notNull())
            .addColumn('message', 'text')
            .addColumn('progress', 'double precision')
            .addColumn('output', json)
            .addPrimaryKeyConstraint('statuses_pkey', ['task_run_id', 'seq']),
        )
        .execute();

      await dialect
        .clustered(
          db.schema
            .createTable('logs')
            .addColumn('task_run_id', 'text', (c) => c.notNull().references('task_runs.id').onDelete('cascade'))
            .addColumn('seq', 'integer', (c) => c.notNull())
            .addColumn('at', 'bigint', (c) => c.notNull())
            .addColumn('stream', 'text', (c) => c.notNull())
            .addColumn('line', 'text', (c) => c.notNull())
            .addPrimaryKeyConstraint('logs_pkey', ['task_run_id', 'seq']),
        )
        .execute();

      await dialect
        .addIdentity(db.schema.createTable('transitions'), 'id')
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('from_state', 'text')
        .addColumn('to_state', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text')
        .execute();
      await db.schema.createIndex('transitions_entity_id_idx').on('transitions').columns(['entity_id', 'id']).execute();

      await dialect
        .addIdentity(db.schema.createTable('outbox'), 'seq')
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('run_id', 'text')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', json, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('outbox_run_id_idx').on('outbox').columns(['run_id', 'seq']).execute();

      await dialect
        .clustered(
          db.schema
            .createTable('deliveries')
            .addColumn('sink', 'text', (c) => c.notNull())
            .addColumn('event_seq', 'bigint', (c) => c.notNull().references('outbox.seq').onDelete('cascade'))
            .addColumn('state', 'text', (c) => c.notNull())
            .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('last_error', 'text')
            .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
            .addColumn('delivered_at', 'bigint')
            .addPrimaryKeyConstraint('deliveries_pkey', ['sink', 'event_seq']),
        )
        .execute();
      // listPending() per sink in event order; list()/redeliver() by state across sinks
      await db.schema
        .createIndex('deliveries_sink_state_idx')
        .on('deliveries')
        .columns(['sink', 'state', 'event_seq'])
        .execute();
      await db.schema.createIndex('deliveries_state_idx').on('deliveries').columns(['state', 'event_seq']).execute();
      // list()/redeliver() by event (filter on runId/eventId resolves to outbox seqs)
      await db.schema.createIndex('deliveries_event_seq_idx').on('deliveries').column('event_seq').execute();
    },
  };
}
