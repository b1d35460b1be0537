import type { Kysely } from 'kysely';
import { StoreClosedError } from '../store-error.js';
import type { StoreSchema } from './schema.js';
import type { StoreDialect } from './store-dialect.js';

/**
 * What every area store shares: the Kysely instance, the dialect, and the store's lifetime.
 * Calls go through `use`, which refuses work after `close()` and lets `close()` wait for the
 * calls already under way, so closing never cuts a transaction in half.
 */
export class StoreContext {
  readonly dialect: StoreDialect;
  readonly #db: Kysely<StoreSchema>;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(db: Kysely<StoreSchema>, dialect: StoreDialect) {
    this.#db = db;
    this.dialect = dialect;
  }

  /** Run `fn` with the database; rejects with `StoreClosedError` once `close()` was called. */
  use<T>(fn: (db: Kysely<StoreSchema>) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new StoreClosedError(this.dialect.name));
    const call = fn(this.#db);
    this.#inFlight.add(call);
    const forget = (): void => {
      this.#inFlight.delete(call);
    };
    call.then(forget, forget);
    return call;
  }

  /** Wait for calls under way, then release connections. Safe to repeat: later calls share the first. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      await this.#db.destroy();
    })();
    return this.#closing;
  }
}
