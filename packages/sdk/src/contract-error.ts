import type { ContractStep } from './contract-step.js';

/**
 * The engine answered a contract call with an HTTP error: `400` (malformed body, or an output that
 * fails the component's `outputs` schema), `404` (unknown token), `409` (out of sequence, or the
 * task run already ended), `5xx` (the engine failed; only thrown after the retries ran out).
 * `body` is the raw answer; `reason` its `error`/`message` field when it is JSON.
 */
export class ContractError extends Error {
  readonly code = 'CONTRACT_HTTP';
  readonly step: ContractStep;
  readonly status: number;
  readonly body: string;
  readonly reason: string;
  /** `reason` overrides the one read from `body` (for a 2xx answer that is not what was expected). */
  constructor(step: ContractStep, status: number, body: string, reason: string = reasonOf(body)) {
    const verb = status >= 200 && status < 300 ? 'got an unusable answer' : 'was refused';
    super(`${step} ${verb} from the engine (HTTP ${status})${reason ? `: ${reason}` : ''}`);
    this.name = 'ContractError';
    this.step = step;
    this.status = status;
    this.body = body;
    this.reason = reason;
  }
}

function reasonOf(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) {
      const record = parsed as Record<string, unknown>;
      for (const key of ['message', 'error', 'reason']) {
        const value = record[key];
        if (typeof value === 'string' && value !== '') return value;
      }
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.length > 500 ? `${body.slice(0, 500)}…` : body;
}
