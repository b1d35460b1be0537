import { ComponentFailure } from './component-failure.js';
import { connect, logToStderr, type ConnectOptions } from './connect.js';
import type { ContractClient, StatusUpdate, TaskResult } from './contract-client.js';
import { ContractError } from './contract-error.js';
import type { Env } from './env.js';
import { isPlainObject, type JsonObject } from './json.js';
import type { TaskInfo } from './task-info.js';

/** What a `runComponent` handler is given: the event data, the context and a progress reporter. */
export interface TaskContext<I> extends TaskInfo {
  /** the event data (`CO_DATA`, fetched from `CO_DATA_URL` when large) */
  readonly data: I;
  /** sends a `TASK_STATUS`; rejects like any contract call (the handler may ignore that) */
  status(update: StatusUpdate): Promise<void>;
}

/** Options of `runComponent`. */
export interface RunComponentOptions extends ConnectOptions {
  /** the process environment to read (default `process.env`) */
  readonly env?: Env;
  /** set `process.exitCode` to the outcome's `exitCode` (default true) */
  readonly setExitCode?: boolean;
}

/** How a `runComponent` call ended. */
export interface RunOutcome {
  /** the verdict reported (or that would have been, if the engine could not be told) */
  readonly status: 'success' | 'failure';
  readonly output?: JsonObject;
  readonly message?: string;
  /** 0 when a success was reported and accepted, else 1 */
  readonly exitCode: 0 | 1;
}

/**
 * Runs `handler` under the component contract and reports what it did:
 * `COMPONENT_START`, read the event data (`CO_DATA` or a `GET` of `CO_DATA_URL`), `TASK_START`,
 * the handler (which may send `TASK_STATUS` through `ctx.status`), `TASK_RESULT`, `COMPONENT_STOP`.
 * The result is a success whose output is the object the handler resolved with (none for
 * undefined); a failure with the error's message if it throws, plus an output if it throws a
 * `ComponentFailure`. A success output the engine rejects (400: it fails the `outputs` schema) is
 * reported again as a failure naming the reason. If `COMPONENT_START` itself fails, nothing more
 * is sent. Errors are written to the log (stderr). Resolves, never rejects, and sets
 * `process.exitCode` (0 success, 1 failure) unless `setExitCode` is false.
 * Outside Pilotage (no `CO_*` callback variables) it runs the same way in dev mode: data from
 * `CO_DATA`, `argv[2]` JSON or `{}`, and every call written to stderr.
 */
export async function runComponent<I = JsonObject, O extends object = JsonObject>(
  handler: (ctx: TaskContext<I>) => Promise<O | void> | O | void,
  options: RunComponentOptions = {},
): Promise<RunOutcome> {
  const log = options.log ?? logToStderr;
  const outcome = await runContract(handler, options, log);
  if (options.setExitCode ?? true) process.exitCode = outcome.exitCode;
  return outcome;
}

async function runContract<I, O extends object>(
  handler: (ctx: TaskContext<I>) => Promise<O | void> | O | void,
  options: RunComponentOptions,
  log: (line: string) => void,
): Promise<RunOutcome> {
  let client: ContractClient;
  try {
    client = connect(options.env ?? process.env, { ...options, log });
    await client.start();
  } catch (err) {
    // The engine does not know or want us: there is no one to report the failure to.
    const message = messageOf(err);
    log(`pilotage: cannot start the component: ${message}`);
    return { status: 'failure', message, exitCode: 1 };
  }

  let result: TaskResult;
  let taskStartTried = false;
  try {
    const data = (await client.data()) as I;
    taskStartTried = true;
    await client.taskStart();
    const returned = await handler({ ...client.info, data, status: (update) => client.status(update) });
    result = { status: 'success', ...outputOf(returned) };
  } catch (err) {
    result = failureOf(err);
    // The stack helps whoever reads the task's log; a ComponentFailure is an expected verdict.
    const detail = err instanceof Error && !(err instanceof ComponentFailure) ? err.stack : undefined;
    log(`pilotage: task failed: ${detail ?? result.message ?? ''}`);
  }

  let accepted = false;
  let reportProblem: string | undefined;
  try {
    // A failure before TASK_START (unreadable data) can still be reported with its reason.
    if (!taskStartTried) await client.taskStart();
    await client.result(result);
    accepted = true;
  } catch (err) {
    if (result.status === 'success' && err instanceof ContractError && err.status === 400) {
      result = { status: 'failure', message: `the engine rejected the output: ${err.reason}` };
      log(`pilotage: ${result.message}`);
      accepted = await tryCall(() => client.result(result), log);
    } else {
      reportProblem = `cannot report the result: ${messageOf(err)}`;
      log(`pilotage: ${reportProblem}`);
    }
  }
  await tryCall(() => client.stop(), log);

  if (accepted && result.status === 'success') return { ...result, exitCode: 0 };
  if (result.status === 'success') return { status: 'failure', message: reportProblem, exitCode: 1 };
  return { ...result, exitCode: 1 };
}

function outputOf(returned: unknown): { output?: JsonObject } {
  if (returned === undefined) return {};
  if (!isPlainObject(returned)) {
    throw new TypeError(`the handler resolved with ${describe(returned)}; outputs must be a JSON object`);
  }
  return { output: returned as JsonObject };
}

function failureOf(err: unknown): TaskResult {
  if (err instanceof ComponentFailure) {
    return { status: 'failure', message: err.message, ...(err.output ? { output: err.output } : {}) };
  }
  return { status: 'failure', message: messageOf(err) };
}

async function tryCall(call: () => Promise<void>, log: (line: string) => void): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    log(`pilotage: ${messageOf(err)}`);
    return false;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
