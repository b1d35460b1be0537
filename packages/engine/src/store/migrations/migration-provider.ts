import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';

/** A migration's name, and how to load it (its module is imported only when it is to run). */
type Listed = readonly [name: string, load: (dialect: StoreDialect) => Promise<Migration>];

/**
 * The migrations, listed in code so a bundled or installed engine never scans the filesystem.
 * Names sort in the order they apply; never rename or edit one that has shipped, add the next,
 * then regenerate the snapshot an empty SQLite store starts from
 * (`node --import tsx scripts/generate-sqlite-schema.mjs`; a test fails until then).
 * Each module is imported when its migration runs: an up-to-date store (every start but the first
 * after an upgrade) loads none of them.
 */
const MIGRATIONS: readonly Listed[] = [
  ['0001-initial', async (dialect) => (await import('./0001-initial.js')).initialMigration(dialect)],
  ['0002-api-tokens', async (dialect) => (await import('./0002-api-tokens.js')).apiTokensMigration(dialect)],
  ['0003-registry', async (dialect) => (await import('./0003-registry.js')).registryMigration(dialect)],
  ['0004-triggers', async (dialect) => (await import('./0004-triggers.js')).triggersMigration(dialect)],
  [
    '0005-cdevents-inbox',
    async (dialect) => (await import('./0005-cdevents-inbox.js')).cdeventsInboxMigration(dialect),
  ],
  ['0006-sealed-inputs', async (dialect) => (await import('./0006-sealed-inputs.js')).sealedInputsMigration(dialect)],
  ['0015-kept-workspaces', async () => (await import('./0015-kept-workspaces.js')).keptWorkspacesMigration()],
  [
    '0010-task-run-limits',
    async (dialect) => (await import('./0010-task-run-limits.js')).taskRunLimitsMigration(dialect),
  ],
  ['0060-replicas', async (dialect) => (await import('./0060-replicas.js')).replicasMigration(dialect)],
  [
    '0061-sealed-event-data',
    async (dialect) => (await import('./0061-sealed-event-data.js')).sealedEventDataMigration(dialect),
  ],
  [
    '0062-replica-process',
    async (dialect) => (await import('./0062-replica-process.js')).replicaProcessMigration(dialect),
  ],
  [
    '0070-run-event-order',
    async (dialect) => (await import('./0070-run-event-order.js')).runEventOrderMigration(dialect),
  ],
  [
    '0071-delivery-retry-window',
    async (dialect) => (await import('./0071-delivery-retry-window.js')).deliveryRetryWindowMigration(dialect),
  ],
  ['0072-cancel-count', async (dialect) => (await import('./0072-cancel-count.js')).cancelCountMigration(dialect)],
  ['0073-run-waiter', async (dialect) => (await import('./0073-run-waiter.js')).runWaiterMigration(dialect)],
  ['0040-matrix', async (dialect) => (await import('./0040-matrix.js')).matrixMigration(dialect)],
  ['0041-child-runs', async (dialect) => (await import('./0041-child-runs.js')).childRunsMigration(dialect)],
  ['0042-action-cache', async (dialect) => (await import('./0042-action-cache.js')).actionCacheMigration(dialect)],
  [
    '0043-concurrency-groups',
    async (dialect) => (await import('./0043-concurrency-groups.js')).concurrencyGroupsMigration(dialect),
  ],
  ['0030-ui-sessions', async () => (await import('./0030-ui-sessions.js')).uiSessionsMigration()],
];

/** The names of this engine's migrations, in the order they are listed. */
export const MIGRATION_NAMES: readonly string[] = MIGRATIONS.map(([name]) => name);

/** Kysely's provider over `MIGRATIONS`: each migration's `up` loads its module first. */
export class StaticMigrationProvider implements MigrationProvider {
  readonly #dialect: StoreDialect;

  constructor(dialect: StoreDialect) {
    this.#dialect = dialect;
  }

  getMigrations(): Promise<Record<string, Migration>> {
    const dialect = this.#dialect;
    return Promise.resolve(
      Object.fromEntries(
        MIGRATIONS.map(([name, load]): [string, Migration] => [
          name,
          { up: async (db) => (await load(dialect)).up(db) },
        ]),
      ),
    );
  }
}
