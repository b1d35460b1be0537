import type { ChangeFeed, ReplicaStore, RetentionStore, RunLeaseStore, SlotStore } from './types/cluster.js';
import type { CacheStore } from './types/cache.js';
import type { ApiTokenStore, SecretStore, UiSessionStore } from './types/credentials.js';
import type { DeliveryStore, OutboxStore, SinkLeaseStore } from './types/events.js';
import type { ComponentStore, WorkflowStore } from './types/registry.js';
import type { RunStore, TransitionStore } from './types/runs.js';
import type { LogStore, StatusStore, TaskRunStore } from './types/task-runs.js';
import type { CronClaimStore, InboxStore, WebhookDeliveryStore } from './types/triggers.js';

/**
 * Narrow store interfaces, one per area, each area in its own file under `types/` and all of
 * them exported from here. The engine depends on these only; the Kysely implementation (SQLite
 * file by default, PostgreSQL for replicas) lives beside them. Timestamps are epoch
 * milliseconds. JSON columns come back parsed.
 */

export * from './types/cluster.js';
export * from './types/cache.js';
export * from './types/credentials.js';
export * from './types/events.js';
export * from './types/registry.js';
export * from './types/runs.js';
export * from './types/task-runs.js';
export * from './types/triggers.js';

/** Which migrations a database has, compared with this engine's (`SchemaStore.status`). */
export interface SchemaStatus {
  /** this engine's migrations the database has */
  readonly applied: readonly string[];
  /** this engine's migrations the database lacks (`pilotage db migrate` applies them) */
  readonly pending: readonly string[];
  /** migrations the database has that this engine does not know: a newer engine applied them */
  readonly newer: readonly string[];
}

/** The store's schema: what is applied, and bringing it up to date. */
export interface SchemaStore {
  status(): Promise<SchemaStatus>;
  /**
   * Apply the pending migrations (once, whichever replicas call it together: a lock); resolves
   * with the names applied now. A database a newer engine migrated further is left as it is.
   */
  migrate(): Promise<string[]>;
}

/** The whole store: its areas and its lifetime. */
export interface Store {
  readonly runs: RunStore;
  readonly taskRuns: TaskRunStore;
  readonly statuses: StatusStore;
  readonly logs: LogStore;
  readonly transitions: TransitionStore;
  readonly outbox: OutboxStore;
  readonly deliveries: DeliveryStore;
  readonly apiTokens: ApiTokenStore;
  readonly components: ComponentStore;
  readonly workflows: WorkflowStore;
  /** incoming CDEvents already seen (deduplication by source and id) */
  readonly inbox: InboxStore;
  /** which replica delivers to each events sink */
  readonly sinkLeases: SinkLeaseStore;
  /** the secret store (values encrypted by service/secret-service.ts) */
  readonly secrets: SecretStore;
  /** webhook deliveries seen in the last 24 h (deduplication) */
  readonly webhookDeliveries: WebhookDeliveryStore;
  /** cron ticks claimed (no double fire across restarts and replicas) */
  readonly cronClaims: CronClaimStore;
  /** the replicas sharing the store, and their leases */
  readonly replicas: ReplicaStore;
  /** which replica holds which run */
  readonly leases: RunLeaseStore;
  /** the engine's `maxParallel` across the cluster */
  readonly slots: SlotStore;
  /** what other processes sharing the store change (PostgreSQL LISTEN/NOTIFY), to wake on */
  readonly changes: ChangeFeed;
  /** the schema's migrations */
  readonly schema: SchemaStore;
  /** deleting what is older than the retention settings */
  readonly retention: RetentionStore;
  /**
   * A view of this store for replica `owner`, whose state changes of a run and its task runs
   * (`runs.transition`, `taskRuns.create|transition|update|markStep`, `logs.append`) apply only
   * while `owner` holds the run; otherwise they write nothing and reject with LeaseLostError.
   * The check and the write are one transaction, and on PostgreSQL a replica taking the run
   * over waits for it to commit. The view shares this store's connections and lifetime.
   */
  ownedBy(owner: string): OwnedStore;
  /** the action result cache's entries (files are in the cache folder) */
  readonly cache: CacheStore;
  /** browser sessions of the web UI */
  readonly uiSessions: UiSessionStore;
  /** `sqlite` or `postgres` */
  readonly dialect: string;
  /** Close connections. Safe to repeat. */
  close(): Promise<void>;
}

/** A store view bound to a replica (`Store.ownedBy`). */
export interface OwnedStore extends Store {
  /**
   * Refuse every later call through this view with LeaseLostError, reads included: the replica
   * let go of the run it used the view for, and none of its late writes may land.
   */
  revoke(): void;
}
