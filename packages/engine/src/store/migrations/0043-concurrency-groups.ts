import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/**
 * Concurrency groups (a workflow's `concurrency: {group}`): the group a run belongs to
 * (`runs.concurrency_group`, indexed to find a group's held and waiting runs), and one row per
 * group that a replica locks while it claims a run of the group, so that replicas claiming at
 * once never both take one (`RunLeaseStore.claimQueued`).
 */
export function concurrencyGroupsMigration(_dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('runs').addColumn('concurrency_group', 'text').execute();
      await db.schema
        .createIndex('runs_concurrency_group_idx')
        .on('runs')
        .columns(['concurrency_group', 'state', 'id'])
        .execute();
      await db.schema
        .createTable('concurrency_groups')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .execute();
    },
  };
}
