import { messageOf } from '../domain/errors.js';
import { parseJsonText } from '../domain/json-text.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import { isJsonObject } from '../domain/vocabulary.js';
import type { AcceptedStep, ContractStep, ResultBody, StatusBody } from './types.js';
import { CONTRACT_STEPS } from './types.js';

/** A POST callback: the five contract steps and `cdevent`. */
export type CallbackStep = ContractStep | 'cdevent';

/** Is `name` one of the POST callback steps? */
export function isCallbackStep(name: string): name is CallbackStep {
  return name === 'cdevent' || (CONTRACT_STEPS as readonly string[]).includes(name);
}

/** A parsed body, or why it was refused (the text of the 400 answer). */
export type BodyParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** Validates an output object; returns an error text or undefined (SessionOptions.validateOutput). */
export type OutputValidator = (output: JsonObject) => string | undefined;

/**
 * Parse a raw body as a JSON object, whatever content type it came with (a shell
 * `wget --post-data` says application/x-www-form-urlencoded). An absent or blank body is `{}`.
 */
export function parseJsonObject(raw: string | undefined): BodyParse<JsonObject> {
  if (raw === undefined || raw.trim() === '') return { ok: true, value: {} };
  let parsed: unknown;
  try {
    parsed = parseJsonText(raw, 'the body');
  } catch (error) {
    return { ok: false, message: messageOf(error) };
  }
  if (!isJsonObject(parsed as JsonValue)) return { ok: false, message: 'the body must be a JSON object' };
  return { ok: true, value: parsed as JsonObject };
}

/**
 * Parse and validate the body of a contract step.
 * - component-start, task-start, component-stop: empty or any JSON object (its content is ignored).
 * - task-status: `{message?: string, progress?: number 0..1, output?: object}`.
 * - task-result: `{status: 'success'|'failure', output?: object, message?: string}`.
 * Unknown keys are refused; `output` must pass `validateOutput` when given. Pure.
 */
export function parseStepBody(
  step: ContractStep,
  raw: string | undefined,
  validateOutput?: OutputValidator,
): BodyParse<AcceptedStep> {
  const parsed = parseJsonObject(raw);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  switch (step) {
    case 'component-start':
    case 'task-start':
    case 'component-stop':
      return { ok: true, value: { step } };
    case 'task-status': {
      const error =
        unknownKey(step, body, ['message', 'progress', 'output']) ??
        optionalString(step, body, 'message') ??
        progressError(body) ??
        outputError(step, body, validateOutput);
      if (error !== undefined) return { ok: false, message: error };
      return { ok: true, value: { step, body: body as unknown as StatusBody } };
    }
    case 'task-result': {
      const error =
        unknownKey(step, body, ['status', 'output', 'message']) ??
        statusError(body) ??
        optionalString(step, body, 'message') ??
        outputError(step, body, validateOutput);
      if (error !== undefined) return { ok: false, message: error };
      return { ok: true, value: { step, body: body as unknown as ResultBody } };
    }
  }
}

function unknownKey(step: ContractStep, body: JsonObject, allowed: readonly string[]): string | undefined {
  const extra = Object.keys(body).find((key) => !allowed.includes(key));
  if (extra === undefined) return undefined;
  return `unknown field '${extra}' in the ${step} body; allowed: ${allowed.join(', ')}`;
}

function optionalString(step: ContractStep, body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || typeof value === 'string') return undefined;
  return `'${key}' of the ${step} body must be a string`;
}

function progressError(body: JsonObject): string | undefined {
  const value = body['progress'];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) return undefined;
  return `'progress' of the task-status body must be a number from 0 to 1, got ${JSON.stringify(value)}`;
}

function statusError(body: JsonObject): string | undefined {
  const value = body['status'];
  if (value === 'success' || value === 'failure') return undefined;
  if (value === undefined) return `the task-result body needs 'status': "success" or "failure"`;
  return `'status' of the task-result body must be "success" or "failure", got ${JSON.stringify(value)}`;
}

function outputError(step: ContractStep, body: JsonObject, validate: OutputValidator | undefined): string | undefined {
  const value = body['output'];
  if (value === undefined) return undefined;
  if (!isJsonObject(value)) return `'output' of the ${step} body must be a JSON object`;
  const reason = validate?.(value);
  return reason === undefined ? undefined : `'output' does not match the component's outputs schema: ${reason}`;
}
