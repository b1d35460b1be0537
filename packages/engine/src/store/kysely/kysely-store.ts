import type { Kysely } from 'kysely';
import type { TaskRunLimits } from '../../domain/task-run-limits.js';
import { migrate, schemaStatus } from '../migrations/migrate.js';
import type { ChangeFeed, Store } from '../types.js';
import { KyselyApiTokenStore } from './api-token-store.js';
import { KyselyCacheStore } from './cache-store.js';
import { KyselyComponentStore } from './component-store.js';
import { KyselyCronClaimStore } from './cron-claim-store.js';
import { KyselyDeliveryStore } from './delivery-store.js';
import { KyselyInboxStore } from './inbox-store.js';
import { KyselyLogStore } from './log-store.js';
import { KyselyOutboxStore } from './outbox-store.js';
import { KyselyReplicaStore } from './replica-store.js';
import { KyselyRetentionStore } from './retention-store.js';
import { KyselyRunLeaseStore } from './run-lease-store.js';
import { KyselyRunStore } from './run-store.js';
import type { StoreSchema } from './schema.js';
import { KyselySecretStore } from './secret-store.js';
import { KyselySinkLeaseStore } from './sink-lease-store.js';
import { KyselySlotStore } from './slot-store.js';
import { KyselyStatusStore } from './status-store.js';
import { StoreContext } from './store-context.js';
import type { StoreDialect } from './store-dialect.js';
import { KyselyTaskRunStore } from './task-run-store.js';
import { KyselyTransitionStore } from './transition-store.js';
import { KyselyUiSessionStore } from './ui-session-store.js';
import { KyselyWebhookDeliveryStore } from './webhook-delivery-store.js';
import { KyselyWorkflowStore } from './workflow-store.js';

/**
 * The `Store` over an open, migrated Kysely instance and its change feed. Takes ownership of both:
 * `close()` closes the feed, waits for calls under way, then destroys `db`; later calls reject
 * with `StoreClosedError`. `ownedBy` views share them.
 * `[Symbol.asyncDispose]` closes it too. `limits`: the per task run caps (TASK_RUN_LIMIT_DEFAULTS
 * for those not given; 0: no cap); `commitSoon`: the driver's, where it groups commits
 * (`StoreContext.commitSoon`).
 */
export function createKyselyStore(
  db: Kysely<StoreSchema>,
  dialect: StoreDialect,
  changes: ChangeFeed & { close(): Promise<void> },
  options: { readonly limits?: Partial<TaskRunLimits>; readonly commitSoon?: () => void } = {},
): Store & AsyncDisposable {
  const root = new StoreContext(db, dialect, options);
  const close = async (): Promise<void> => {
    await changes.close();
    await root.close();
  };
  const areas = (ctx: StoreContext): Store => ({
    dialect: dialect.name,
    runs: new KyselyRunStore(ctx),
    taskRuns: new KyselyTaskRunStore(ctx),
    statuses: new KyselyStatusStore(ctx),
    logs: new KyselyLogStore(ctx),
    transitions: new KyselyTransitionStore(ctx),
    outbox: new KyselyOutboxStore(ctx),
    deliveries: new KyselyDeliveryStore(ctx),
    apiTokens: new KyselyApiTokenStore(ctx),
    components: new KyselyComponentStore(ctx),
    workflows: new KyselyWorkflowStore(ctx),
    inbox: new KyselyInboxStore(ctx),
    sinkLeases: new KyselySinkLeaseStore(ctx),
    secrets: new KyselySecretStore(ctx),
    webhookDeliveries: new KyselyWebhookDeliveryStore(ctx),
    cronClaims: new KyselyCronClaimStore(ctx),
    cache: new KyselyCacheStore(ctx),
    uiSessions: new KyselyUiSessionStore(ctx),
    replicas: new KyselyReplicaStore(ctx),
    leases: new KyselyRunLeaseStore(ctx),
    slots: new KyselySlotStore(ctx),
    changes,
    schema: {
      status: () => schemaStatus(db as Kysely<unknown>),
      migrate: () => migrate(db as Kysely<unknown>, dialect),
    },
    retention: new KyselyRetentionStore(ctx),
    ownedBy: (owner) => {
      const owned = root.ownedBy(owner);
      return { ...areas(owned), revoke: () => owned.revoke() };
    },
    close,
  });
  return { ...areas(root), [Symbol.asyncDispose]: close };
}
