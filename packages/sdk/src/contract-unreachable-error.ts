import type { ContractStep } from './contract-step.js';

/**
 * A contract call could not reach the engine (refused, reset, timed out, or kept answering 5xx)
 * after every retry. `url` has its token removed, so the message is safe to log.
 */
export class ContractUnreachableError extends Error {
  readonly code = 'CONTRACT_UNREACHABLE';
  readonly step: ContractStep;
  readonly url: string;
  readonly attempts: number;
  constructor(step: ContractStep, url: string, attempts: number, cause: unknown) {
    const detail = describeCause(cause);
    super(`${step}: cannot reach the engine at ${url} after ${attempts} attempts (${detail})`, { cause });
    this.name = 'ContractUnreachableError';
    this.step = step;
    this.url = url;
    this.attempts = attempts;
  }
}

/** Node's fetch hides the useful part (`ECONNREFUSED`) in `cause`. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as Error & { cause?: unknown }).cause;
  if (inner instanceof Error) {
    const code = (inner as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${inner.message}` : inner.message;
  }
  return cause.message;
}
