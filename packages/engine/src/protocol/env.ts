import type { TraceContext } from '../domain/trace-context.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { isJsonObject } from '../domain/vocabulary.js';
import { CONTRACT_STEPS, STEP_ENV } from './types.js';

/** Largest event data passed inline as CO_DATA, bytes of UTF-8 JSON; larger goes by CO_DATA_URL only. */
export const CO_DATA_MAX_BYTES = 64 * 1024;

/**
 * Bounds of the CO_INPUT_* variables, bytes of UTF-8 value: one variable, and all of them
 * together. Linux refuses to start a program whose single environment string passes 128 KiB
 * (`spawn E2BIG`, Podman's `argument list too long`); these keep the contract's share well under
 * it, whatever the event data. A field past either bound travels only by CO_DATA_URL (and CO_DATA
 * when that fits), and its variable's name is listed in CO_INPUT_OMITTED.
 */
export const CO_INPUT_LIMITS = { variableBytes: 32 * 1024, totalBytes: 64 * 1024 } as const;

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
 * skipped; when two names map to the same variable the first field wins; bounded by
 * CO_INPUT_LIMITS, what is left out named in CO_INPUT_OMITTED). Pure.
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
  if (isJsonObject(input.eventData)) Object.assign(env, inputVariables(input.eventData, env));
  return env;
}

/**
 * The CO_INPUT_* variables of object event data, within CO_INPUT_LIMITS (fields in their order;
 * one past a bound is left out, later smaller ones may still fit), plus CO_INPUT_OMITTED (the
 * left-out variables' names, space-separated) when any was left out. `taken` are names already set.
 */
function inputVariables(
  data: Readonly<Record<string, JsonValue>>,
  taken: Record<string, string>,
): Record<string, string> {
  const variables: Record<string, string> = {};
  const omitted: string[] = [];
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    const name = inputEnvName(key);
    const text = scalarText(value);
    if (name === undefined || text === undefined || Object.hasOwn(taken, name) || Object.hasOwn(variables, name))
      continue;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > CO_INPUT_LIMITS.variableBytes || total + bytes > CO_INPUT_LIMITS.totalBytes) {
      omitted.push(name);
      continue;
    }
    total += bytes;
    variables[name] = text;
  }
  if (omitted.length > 0 && !Object.hasOwn(variables, 'CO_INPUT_OMITTED'))
    variables['CO_INPUT_OMITTED'] = omitted.join(' ');
  return variables;
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
