import type { JsonObject, JsonValue } from './json.js';
import type { TaskInfo } from './task-info.js';

/** A `TASK_STATUS` body: interim progress, repeatable. */
export interface StatusUpdate {
  readonly message?: string;
  /** fraction done, 0..1 */
  readonly progress?: number;
  /** partial outputs, validated like the final ones */
  readonly output?: JsonObject;
}

/** A `TASK_RESULT` body: the component's verdict. */
export interface TaskResult {
  readonly status: 'success' | 'failure';
  /** validated by the engine against the component's `outputs` schema */
  readonly output?: JsonObject;
  readonly message?: string;
}

/**
 * The component contract, one method per call. Call them in contract order: `start`, `data`
 * (any time), `taskStart`, `status` (any number of times), `result`, `stop`.
 * In `pilotage` mode each call is an HTTP request to the engine: it rejects with `ContractError`
 * when the engine refuses it and `ContractUnreachableError` when the engine cannot be reached.
 * In `dev` mode (no contract variables) calls are written to the log and always succeed.
 */
export interface ContractClient {
  /** `pilotage` under the engine, `dev` when run by hand */
  readonly mode: 'pilotage' | 'dev';
  /** the context variables */
  readonly info: TaskInfo;
  /**
   * The event data: `CO_DATA` parsed, else a `GET` of `CO_DATA_URL`; in dev mode `CO_DATA`, else
   * `argv[2]` parsed, else `{}`. Read once and cached. Throws `ContractEnvError` on invalid JSON.
   */
  data(): Promise<JsonValue>;
  /** 1. `COMPONENT_START`: the component is up (and listening, if it declares an endpoint) */
  start(): Promise<void>;
  /** 2. `TASK_START`: the component has its data and starts the task */
  taskStart(): Promise<void>;
  /** 3. `TASK_STATUS`: interim progress */
  status(update: StatusUpdate): Promise<void>;
  /** 4. `TASK_RESULT`: the final verdict */
  result(result: TaskResult): Promise<void>;
  /** 5. `COMPONENT_STOP`: the program is about to exit */
  stop(): Promise<void>;
}
