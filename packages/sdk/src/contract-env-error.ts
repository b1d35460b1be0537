/**
 * The process environment does not hold a usable contract: some callback URLs are set but not
 * all, or `CO_DATA` (or the `argv[2]` of a dev run) is not valid JSON. Not retryable.
 */
export class ContractEnvError extends Error {
  readonly code = 'CONTRACT_ENV';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContractEnvError';
  }
}
