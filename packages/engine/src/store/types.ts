import type { ApiTokenStore, SecretStore } from './types/credentials.js';
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

export * from './types/credentials.js';
export * from './types/events.js';
export * from './types/registry.js';
export * from './types/runs.js';
export * from './types/task-runs.js';
export * from './types/triggers.js';

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
  /** `sqlite` or `postgres` */
  readonly dialect: string;
  /** Close connections. Safe to repeat. */
  close(): Promise<void>;
}
