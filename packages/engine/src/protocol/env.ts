import type { TraceContext } from '../domain/trace-context.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { isJsonObject } from '../domain/vocabulary.js';
import { CONTRACT_STEPS, STEP_ENV } from './types.js';

/** Largest event data passed inline as CO_DATA, bytes of UTF-8 JSON; larger goes by CO_DATA_URL only. */
export const CO_DATA_MAX_BYTES = 64 * 1024;

/** What `buildContractEnv` needs. */
export interface ContractEnvInput {
  /** callback base URL as reachable by the component, e.g. `http://127.0.0.1:4317` */
  readonly baseUrl: string;
  /** the raw per-task-run token */
  readonly token: string;
  readonly taskRunId: string;
  readonly runId: string;
  readonly workflow: string;
  readonly stage: string;
  readonly action: string;
  readonly attempt: number;
  readonly eventData: JsonValue;
  /** the workspace path as the component sees it */
  readonly workspace: string;
  /** the engine's API URL as the component sees it */
  readonly server: string;
  /** the component's folder (local executor) */
  readonly componentDir?: string;
  /** the attempt's span, as TRACEPARENT and TRACESTATE (when the run is traced) */
  readonly traceContext?: TraceContext;
}

/**
 * The contract's environment of one task run (docs/contract.md): CO_DATA (omitted when its JSON
 * is over 64 KiB), CO_DATA_URL, the five step URLs, CO_CDEVENT, the context variables, the
 * W3C trace context of the attempt (TRACEPARENT, TRACESTATE) when the run is traced, and one
 * CO_INPUT_<UPPER_SNAKE> per scalar top-level field of object event data (numbers and booleans
 * as JSON text, null as ''; names that do not map to [A-Z0-9_]+ and strings holding NUL are
 * skipped; when two names map to the same variable the first field wins). Pure.
 */
export function buildContractEnv(input: ContractEnvInput): Record<string, string> {
  const callbacks = `${input.baseUrl.replace(/\/+$/, '')}/v1/callbacks/${encodeURIComponent(input.token)}`;
  const env: Record<string, string> = {};
  const data = JSON.stringify(input.eventData);
  if (Buffer.byteLength(data, 'utf8') <= CO_DATA_MAX_BYTES) env['CO_DATA'] = data;
  env['CO_DATA_URL'] = `${callbacks}/data`;
  for (const step of CONTRACT_STEPS) env[STEP_ENV[step]] = `${callbacks}/${step}`;
  env['CO_CDEVENT'] = `${callbacks}/cdevent`;
  env['CO_RUN_ID'] = input.runId;
  env['CO_TASK_RUN_ID'] = input.taskRunId;
  env['CO_WORKFLOW'] = input.workflow;
  env['CO_STAGE'] = input.stage;
  env['CO_ACTION'] = input.action;
  env['CO_ATTEMPT'] = String(input.attempt);
  env['CO_WORKSPACE'] = input.workspace;
  env['CO_SERVER'] = input.server;
  if (input.componentDir !== undefined) env['CO_COMPONENT_DIR'] = input.componentDir;
  if (input.traceContext !== undefined) {
    env['TRACEPARENT'] = input.traceContext.traceparent;
    if (input.traceContext.tracestate !== undefined) env['TRACESTATE'] = input.traceContext.tracestate;
  }
  if (isJsonObject(input.eventData)) {
    for (const [key, value] of Object.entries(input.eventData)) {
      const name = inputEnvName(key);
      const text = scalarText(value);
      if (name === undefined || text === undefined || Object.hasOwn(env, name)) continue;
      env[name] = text;
    }
  }
  return env;
}

/**
 * `CO_INPUT_<UPPER_SNAKE>` for an event data field name: camelCase and kebab-case become
 * UPPER_SNAKE (`gitRef`, `git-ref` → `CO_INPUT_GIT_REF`, `HTTPServer` → `CO_INPUT_HTTP_SERVER`).
 * Undefined when the result is not made of A-Z, 0-9 and `_` only.
 */
export function inputEnvName(field: string): string | undefined {
  const snake = field
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toUpperCase();
  return /^[A-Z0-9_]+$/.test(snake) ? `CO_INPUT_${snake}` : undefined;
}

function scalarText(value: JsonValue): string | undefined {
  if (value === null) return '';
  if (typeof value === 'string') return value.includes('\0') ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return undefined;
}
