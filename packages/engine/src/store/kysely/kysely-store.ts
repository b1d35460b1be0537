import type { Kysely } from 'kysely';
import type { InboxStore } from '../../events/inbox.js';
import type { SinkLeaseStore } from '../../events/sink-lease.js';
import type {
  CronClaimStore,
  SecretStore,
  WebhookDeliveryStore,
  ApiTokenStore,
  ComponentStore,
  DeliveryStore,
  LogStore,
  OutboxStore,
  RunStore,
  StatusStore,
  Store,
  TaskRunStore,
  TransitionStore,
  WorkflowStore,
} from '../types.js';
import { KyselyApiTokenStore } from './api-token-store.js';
import { KyselyComponentStore } from './component-store.js';
import { KyselyDeliveryStore } from './delivery-store.js';
import { KyselyInboxStore } from './inbox-store.js';
import { KyselyLogStore } from './log-store.js';
import { KyselyOutboxStore } from './outbox-store.js';
import { KyselyRunStore } from './run-store.js';
import { KyselySinkLeaseStore } from './sink-lease-store.js';
import { KyselySecretStore } from './secret-store.js';
import { KyselyWebhookDeliveryStore } from './webhook-delivery-store.js';
import { KyselyCronClaimStore } from './cron-claim-store.js';
import type { StoreSchema } from './schema.js';
import { KyselyStatusStore } from './status-store.js';
import { StoreContext } from './store-context.js';
import type { StoreDialect } from './store-dialect.js';
import { KyselyTaskRunStore } from './task-run-store.js';
import { KyselyTransitionStore } from './transition-store.js';
import { KyselyWorkflowStore } from './workflow-store.js';

/**
 * The `Store` over an open, migrated Kysely instance. Takes ownership of `db`: `close()` waits for
 * calls under way, then destroys it; later calls reject with `StoreClosedError`.
 */
export class KyselyStore implements Store {
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
  readonly inbox: InboxStore;
  readonly sinkLeases: SinkLeaseStore;
  readonly secrets: SecretStore;
  readonly webhookDeliveries: WebhookDeliveryStore;
  readonly cronClaims: CronClaimStore;
  readonly dialect: string;
  readonly #ctx: StoreContext;

  constructor(db: Kysely<StoreSchema>, dialect: StoreDialect) {
    const ctx = new StoreContext(db, dialect);
    this.#ctx = ctx;
    this.dialect = dialect.name;
    this.runs = new KyselyRunStore(ctx);
    this.taskRuns = new KyselyTaskRunStore(ctx);
    this.statuses = new KyselyStatusStore(ctx);
    this.logs = new KyselyLogStore(ctx);
    this.transitions = new KyselyTransitionStore(ctx);
    this.outbox = new KyselyOutboxStore(ctx);
    this.deliveries = new KyselyDeliveryStore(ctx);
    this.apiTokens = new KyselyApiTokenStore(ctx);
    this.components = new KyselyComponentStore(ctx);
    this.workflows = new KyselyWorkflowStore(ctx);
    this.inbox = new KyselyInboxStore(ctx);
    this.sinkLeases = new KyselySinkLeaseStore(ctx);
    this.secrets = new KyselySecretStore(ctx);
    this.webhookDeliveries = new KyselyWebhookDeliveryStore(ctx);
    this.cronClaims = new KyselyCronClaimStore(ctx);
  }

  close(): Promise<void> {
    return this.#ctx.close();
  }

  /** `await using store = await openStore(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
