import type { Kysely, Migration } from 'kysely';

/**
 * Kept workspaces (issue 12, item 14): what is left of a run's workspace once it ended, so a
 * rerun can start from a copy of it and the cleanup job can remove it when it expires.
 * - `runs.workspace_state`: NULL (removed when the run ended, or the run never ended), `kept`
 *   (left on the executors), `expired` (the cleanup job removed it);
 * - `runs.workspace_expires_at`: when a kept workspace expires (epoch ms); NULL: kept until
 *   removed by hand (the `keepWorkspace` setting);
 * - `runs.workspace_from`: the run whose kept workspace this one started as a copy of (a rerun).
 * The index finds the expired ones. Additive: earlier runs have NULLs (nothing kept).
 */
export function keptWorkspacesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('runs').addColumn('workspace_state', 'text').execute();
      await db.schema.alterTable('runs').addColumn('workspace_expires_at', 'bigint').execute();
      await db.schema.alterTable('runs').addColumn('workspace_from', 'text').execute();
      await db.schema
        .createIndex('runs_workspace_idx')
        .on('runs')
        .columns(['workspace_state', 'workspace_expires_at'])
        .execute();
    },
  };
}
