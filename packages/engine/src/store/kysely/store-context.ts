import type { Kysely } from 'kysely';
import { LeaseLostError } from '../../domain/errors.js';
import { TASK_RUN_LIMIT_DEFAULTS, type TaskRunLimits } from '../../domain/task-run-limits.js';
import { StoreClosedError } from '../store-error.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/** What a store and all its owner-bound views share: the connections and their lifetime. */
interface Shared {
  readonly db: Kysely<StoreSchema>;
  readonly inFlight: Set<Promise<unknown>>;
  readonly limits: TaskRunLimits;
  readonly commitSoon: () => void;
  closing: Promise<void> | undefined;
}

/** The caps as the statements compare them: 0 (no cap) becomes a bound no task run reaches. */
function effectiveLimits(limits: Partial<TaskRunLimits> | undefined): TaskRunLimits {
  const pick = (key: keyof TaskRunLimits): number => {
    const value = limits?.[key] ?? TASK_RUN_LIMIT_DEFAULTS[key];
    return value <= 0 ? Number.MAX_SAFE_INTEGER : value;
  };
  return Object.freeze({ statuses: pick('statuses'), statusBytes: pick('statusBytes'), logBytes: pick('logBytes') });
}

/**
 * What every area store shares: the Kysely instance, the dialect, and the store's lifetime.
 * Calls go through `use`, which refuses work after `close()` and lets `close()` wait for the
 * calls already under way, so closing never cuts a transaction in half. A context `ownedBy` a
 * replica (`guard`) makes the area stores check, in each state change of a run, that the replica
 * still holds it (owner-guard.ts).
 */
export class StoreContext {
  readonly dialect: StoreDialect;
  /** the replica whose writes must hold the run they change; undefined: unchecked */
  readonly guard: string | undefined;
  readonly #shared: Shared;
  #revoked = false;

  /** `limits`: the per task run caps (defaults: TASK_RUN_LIMIT_DEFAULTS; 0: no cap). */
  constructor(
    db: Kysely<StoreSchema>,
    dialect: StoreDialect,
    options: {
      readonly guard?: string;
      readonly shared?: Shared;
      readonly limits?: Partial<TaskRunLimits>;
      readonly commitSoon?: () => void;
    } = {},
  ) {
    this.dialect = dialect;
    this.guard = options.guard;
    this.#shared = options.shared ?? {
      db,
      inFlight: new Set(),
      limits: effectiveLimits(options.limits),
      commitSoon: options.commitSoon ?? (() => undefined),
      closing: undefined,
    };
  }

  /** The per task run caps every writer of this store enforces (0 in the options is a huge bound here). */
  get limits(): TaskRunLimits {
    return this.#shared.limits;
  }

  /**
   * Ask for the next write (call this just before it) to be committed without waiting for the
   * writes of the rest of the loop's turn, where the store groups them (SQLite: group-commit.ts).
   */
  commitSoon(): void {
    this.#shared.commitSoon();
  }

  /** A context on the same connections whose run writes are checked against `owner`. */
  ownedBy(owner: string): StoreContext {
    return new StoreContext(this.#shared.db, this.dialect, { guard: owner, shared: this.#shared });
  }

  /**
   * Refuse every later call of this owner-bound context with LeaseLostError: the replica let
   * go of what it used it for, and no late write of it may land.
   */
  revoke(): void {
    this.#revoked = true;
  }

  /**
   * Run `fn` with the database; rejects with `StoreClosedError` once `close()` was called, and
   * with LeaseLostError once this context was revoked.
   */
  use<T>(fn: (db: Kysely<StoreSchema>) => Promise<T>): Promise<T> {
    const shared = this.#shared;
    if (this.#revoked) {
      return Promise.reject(
        new LeaseLostError(`replica ${this.guard ?? '?'} let go of this run; nothing more is written`),
      );
    }
    if (shared.closing !== undefined) return Promise.reject(new StoreClosedError(this.dialect.name));
    const call = fn(shared.db);
    shared.inFlight.add(call);
    const forget = (): void => {
      shared.inFlight.delete(call);
    };
    call.then(forget, forget);
    return call;
  }

  /** Wait for calls under way, then release connections. Safe to repeat: later calls share the first. */
  close(): Promise<void> {
    const shared = this.#shared;
    shared.closing ??= (async () => {
      await Promise.allSettled([...shared.inFlight]);
      await shared.db.destroy();
    })();
    return shared.closing;
  }
}
