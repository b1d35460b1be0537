import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../kysely/store-dialect.js';
import { initialMigration } from './0001-initial.js';
import { apiTokensMigration } from './0002-api-tokens.js';
import { registryMigration } from './0003-registry.js';
import { triggersMigration } from './0004-triggers.js';
import { cdeventsInboxMigration } from './0005-cdevents-inbox.js';
import { sealedInputsMigration } from './0006-sealed-inputs.js';
import { keptWorkspacesMigration } from './0015-kept-workspaces.js';
import { taskRunLimitsMigration } from './0010-task-run-limits.js';
import { replicasMigration } from './0060-replicas.js';
import { sealedEventDataMigration } from './0061-sealed-event-data.js';
import { replicaProcessMigration } from './0062-replica-process.js';
import { runEventOrderMigration } from './0070-run-event-order.js';
import { deliveryRetryWindowMigration } from './0071-delivery-retry-window.js';
import { cancelCountMigration } from './0072-cancel-count.js';
import { runWaiterMigration } from './0073-run-waiter.js';
import { matrixMigration } from './0040-matrix.js';
import { childRunsMigration } from './0041-child-runs.js';
import { actionCacheMigration } from './0042-action-cache.js';
import { concurrencyGroupsMigration } from './0043-concurrency-groups.js';
import { uiSessionsMigration } from './0030-ui-sessions.js';

/**
 * The migrations, listed in code so a bundled or installed engine never scans the filesystem.
 * Names sort in the order they apply; never rename or edit one that has shipped, add the next.
 */
export class StaticMigrationProvider implements MigrationProvider {
  readonly #dialect: StoreDialect;

  constructor(dialect: StoreDialect) {
    this.#dialect = dialect;
  }

  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({
      '0001-initial': initialMigration(this.#dialect),
      '0002-api-tokens': apiTokensMigration(this.#dialect),
      '0003-registry': registryMigration(this.#dialect),
      '0004-triggers': triggersMigration(this.#dialect),
      '0005-cdevents-inbox': cdeventsInboxMigration(this.#dialect),
      '0006-sealed-inputs': sealedInputsMigration(this.#dialect),
      '0015-kept-workspaces': keptWorkspacesMigration(),
      '0010-task-run-limits': taskRunLimitsMigration(this.#dialect),
      '0060-replicas': replicasMigration(this.#dialect),
      '0061-sealed-event-data': sealedEventDataMigration(this.#dialect),
      '0062-replica-process': replicaProcessMigration(this.#dialect),
      '0070-run-event-order': runEventOrderMigration(this.#dialect),
      '0071-delivery-retry-window': deliveryRetryWindowMigration(this.#dialect),
      '0072-cancel-count': cancelCountMigration(this.#dialect),
      '0073-run-waiter': runWaiterMigration(this.#dialect),
      '0040-matrix': matrixMigration(this.#dialect),
      '0041-child-runs': childRunsMigration(this.#dialect),
      '0042-action-cache': actionCacheMigration(this.#dialect),
      '0043-concurrency-groups': concurrencyGroupsMigration(this.#dialect),
      '0030-ui-sessions': uiSessionsMigration(),
    });
  }
}
