import { ContractEnvError } from './contract-env-error.js';
import type { ContractClient, StatusUpdate, TaskResult } from './contract-client.js';
import { CALLBACK_STEPS, type ContractStep } from './contract-step.js';
import type { Env } from './env.js';
import type { JsonValue } from './json.js';
import { requestJson } from './request-json.js';
import type { RetryOptions } from './retry-options.js';
import { readTaskInfo } from './task-info.js';

/** Options of `connect` (and of `runComponent`). */
export interface ConnectOptions extends RetryOptions {
  /** dev mode: the command line whose `argv[2]` holds the event data as JSON (default `process.argv`) */
  readonly argv?: readonly string[];
  /** where diagnostics and dev-mode calls are written, one line per call (default: stderr) */
  readonly log?: (line: string) => void;
}

/** Writes one line to stderr: stdout may be parsed by the engine (`[COUT]` lines). */
export function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * A client of the component contract for the process environment `env`.
 * With any of `CO_COMPONENT_START`, `CO_TASK_START`, `CO_TASK_STATUS`, `CO_TASK_RESULT`,
 * `CO_COMPONENT_STOP`, `CO_DATA_URL` set, it speaks HTTP to the engine (mode `pilotage`) and
 * needs all five callback URLs: it throws `ContractEnvError` naming the missing ones.
 * With none set, it runs in `dev` mode (outside Pilotage): nothing is sent, every call is logged.
 * Creating the client does no I/O.
 */
export function connect(env: Env = process.env, options: ConnectOptions = {}): ContractClient {
  const inPilotage = CALLBACK_STEPS.some((step) => env[`CO_${step}`]) || Boolean(env.CO_DATA_URL);
  return inPilotage ? httpClient(env, options) : devClient(env, options);
}

function httpClient(env: Env, options: ConnectOptions): ContractClient {
  const missing = CALLBACK_STEPS.filter((step) => !env[`CO_${step}`]).map((step) => `CO_${step}`);
  if (missing.length > 0) {
    throw new ContractEnvError(
      `incomplete component contract: ${missing.join(', ')} not set (the engine sets all five callback URLs)`,
    );
  }
  const urls = Object.fromEntries(CALLBACK_STEPS.map((step) => [step, env[`CO_${step}`] ?? ''])) as Record<
    (typeof CALLBACK_STEPS)[number],
    string
  >;
  const post = async (step: (typeof CALLBACK_STEPS)[number], body: object): Promise<void> => {
    await requestJson(step, urls[step], body, options);
  };
  let cached: Promise<JsonValue> | undefined;
  return {
    mode: 'pilotage',
    info: readTaskInfo(env),
    data() {
      cached ??= (async () => {
        if (env.CO_DATA !== undefined) return parseJson(env.CO_DATA, 'CO_DATA');
        if (!env.CO_DATA_URL) throw new ContractEnvError('neither CO_DATA nor CO_DATA_URL is set');
        return (await requestJson('DATA', env.CO_DATA_URL, undefined, options)) as JsonValue;
      })();
      return cached;
    },
    start: () => post('COMPONENT_START', {}),
    taskStart: () => post('TASK_START', {}),
    status: (update: StatusUpdate) => post('TASK_STATUS', update),
    result: (result: TaskResult) => post('TASK_RESULT', result),
    stop: () => post('COMPONENT_STOP', {}),
  };
}

function devClient(env: Env, options: ConnectOptions): ContractClient {
  const log = options.log ?? logToStderr;
  const argv = options.argv ?? process.argv;
  const say = (step: ContractStep, body?: object): Promise<void> => {
    log(`[pilotage dev] ${step}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
    return Promise.resolve();
  };
  let cached: Promise<JsonValue> | undefined;
  return {
    mode: 'dev',
    info: readTaskInfo(env),
    data() {
      cached ??= (async () => {
        if (env.CO_DATA !== undefined) return parseJson(env.CO_DATA, 'CO_DATA');
        const arg = argv[2];
        return arg === undefined ? {} : parseJson(arg, 'the first argument');
      })();
      return cached;
    },
    start: () => say('COMPONENT_START'),
    taskStart: () => say('TASK_START'),
    status: (update: StatusUpdate) => say('TASK_STATUS', update),
    result: (result: TaskResult) => say('TASK_RESULT', result),
    stop: () => say('COMPONENT_STOP'),
  };
}

function parseJson(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new ContractEnvError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
