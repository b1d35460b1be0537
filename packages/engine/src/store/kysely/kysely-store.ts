import type { Kysely } from 'kysely';
import type {
  DeliveryStore,
  LogStore,
  OutboxStore,
  RunStore,
  StatusStore,
  Store,
  TaskRunStore,
  TransitionStore,
} from '../types.js';
import { KyselyDeliveryStore } from './delivery-store.js';
import { KyselyLogStore } from './log-store.js';
import { KyselyOutboxStore } from './outbox-store.js';
import { KyselyRunStore } from './run-store.js';
import type { StoreSchema } from './schema.js';
import { KyselyStatusStore } from './status-store.js';
import { StoreContext } from './store-context.js';
import type { StoreDialect } from './store-dialect.js';
import { KyselyTaskRunStore } from './task-run-store.js';
import { KyselyTransitionStore } from './transition-store.js';

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
  }

  close(): Promise<void> {
    return this.#ctx.close();
  }

  /** `await using store = await openStore(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
