import { setTimeout as sleep } from 'node:timers/promises';
import { ContractError } from './contract-error.js';
import { httpCall } from './http-call.js';
import type { ContractStep } from './contract-step.js';
import { ContractUnreachableError } from './contract-unreachable-error.js';
import { RETRY_DEFAULTS, type RetryOptions } from './retry-options.js';

/**
 * One contract call over HTTP (`httpCall`, plain `node:http`): a `POST` of `body` as JSON, or a `GET` when
 * `body` is undefined. A `GET` resolves with the parsed JSON answer, a `POST` with undefined.
 * Network errors, request timeouts and 5xx answers are retried with doubling delays; a 4xx answer
 * throws `ContractError` at once; running out of retries throws `ContractUnreachableError`
 * (or the last 5xx as `ContractError`).
 */
export async function requestJson(
  step: ContractStep,
  url: string,
  body: unknown,
  options: RetryOptions = {},
): Promise<unknown> {
  const retries = options.retries ?? RETRY_DEFAULTS.retries;
  const delayMs = options.retryDelayMs ?? RETRY_DEFAULTS.retryDelayMs;
  const timeoutMs = options.requestTimeoutMs ?? RETRY_DEFAULTS.requestTimeoutMs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
    if (attempt > 1) await sleep(delayMs * 2 ** (attempt - 2));
    let status: number;
    let text: string;
    try {
      // Fastify rejects an empty body sent as JSON, so steps without a body send `{}`.
      const answer = await httpCall(
        url,
        body === undefined ? 'GET' : 'POST',
        body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
      );
      status = answer.status;
      text = answer.text;
    } catch (err) {
      lastError = err;
      continue;
    }
    if (status >= 500) {
      // The engine did not record the step (its listener failed); repeating it is safe.
      lastError = new ContractError(step, status, text);
      continue;
    }
    if (status < 200 || status >= 300) throw new ContractError(step, status, text);
    // A callback's answer (`{"ok":true}`) carries nothing the component needs.
    if (body !== undefined) return undefined;
    if (text.trim() === '') throw new ContractError(step, status, text, 'the answer is empty');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ContractError(step, status, text, 'the answer is not valid JSON');
    }
  }
  if (lastError instanceof ContractError) throw lastError;
  throw new ContractUnreachableError(step, redactUrl(url), retries + 1, lastError);
}

/** Callback URLs carry the task run's secret token in their path: keep only the host and the step. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const last = parsed.pathname
      .split('/')
      .filter((part) => part !== '')
      .at(-1);
    return `${parsed.origin}/…${last === undefined ? '' : `/${last}`}`;
  } catch {
    return '(invalid URL)';
  }
}
