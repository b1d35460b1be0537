import { PilotageError } from '../domain/errors.js';

/**
 * The store could not be opened or used: bad location, unreachable server, failed migration.
 * Retryable when the cause may be transient (a server that is not up yet).
 */
export class StoreError extends PilotageError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('STORE', message, options);
  }
}

/** A call on a store after `close()`: a lifetime bug in the caller, never retryable. */
export class StoreClosedError extends StoreError {
  constructor(dialect: string) {
    super(`the ${dialect} store is closed; open a new one with openStore()`);
  }
}
