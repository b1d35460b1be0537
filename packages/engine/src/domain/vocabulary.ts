/**
 * The Pilotage vocabulary, written once.
 *
 * - component:  a reusable step: a container image and/or a command, with declared input and
 *               output JSON Schemas, env, timeout, resources, volumes. Registered as `name@version`.
 * - workflow:   a named definition: `inputs` (JSON Schema of the trigger data), `stages` run in
 *               order, each with `actions` run in parallel, and `triggers`.
 * - stage:      an ordered group of actions; the next stage starts only when this one succeeded.
 * - action:     one component invocation inside a stage, with `with:` (its event data built
 *               from expressions), `if:`, `timeout`, `retries`, `env`.
 * - run:        one execution of a workflow (a CDEvents PipelineRun).
 * - task run:   one attempt of one action inside a run (a CDEvents TaskRun).
 * - event data: the JSON given to a component (`CO_DATA`).
 * - outputs:    the JSON a component reports in `TASK_RESULT`; later actions read it by expression.
 */
export type JsonPrimitive = string | number | boolean | null;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };
/** A JSON Schema document, kept opaque: Ajv is the only reader. */
export type JsonSchema = { [key: string]: unknown } | boolean;

/** Is `value` a plain JSON object (not an array, not null)? */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The component name approval task runs are recorded under (engine/approval-gate.ts). */
export const APPROVAL_COMPONENT = 'builtin:approval@1';
