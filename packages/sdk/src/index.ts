/**
 * @pilotage/sdk: a tiny, dependency-free client of the Pilotage component contract for Node
 * components (Node ≥ 20, global fetch). Most components need only `runComponent`; `connect`
 * gives the five calls one by one. See docs/contract.md for the contract itself.
 */
export { runComponent, type TaskContext, type RunComponentOptions, type RunOutcome } from './run-component.js';
export { connect, logToStderr, type ConnectOptions } from './connect.js';
export type { ContractClient, StatusUpdate, TaskResult } from './contract-client.js';
export { ComponentFailure } from './component-failure.js';
export { ContractError } from './contract-error.js';
export { ContractUnreachableError } from './contract-unreachable-error.js';
export { ContractEnvError } from './contract-env-error.js';
export { CALLBACK_STEPS, type ContractStep } from './contract-step.js';
export { readTaskInfo, type TaskInfo } from './task-info.js';
export { RETRY_DEFAULTS, type RetryOptions } from './retry-options.js';
export type { Env } from './env.js';
export type { JsonObject, JsonPrimitive, JsonValue } from './json.js';
