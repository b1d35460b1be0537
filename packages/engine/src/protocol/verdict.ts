import type { JsonObject } from '../domain/vocabulary.js';
import type { ExitInfo } from '../executor/executor.js';
import type { ContractStep, ResultBody } from './types.js';
import { STEP_ENV } from './types.js';

/** Everything known when a component has ended. */
export interface VerdictInput {
  /** the accepted TASK_RESULT, if any */
  readonly result?: ResultBody;
  /** what the [COUT] lines of stdout set */
  readonly cout: { readonly output: JsonObject; readonly result?: 'success' | 'failure' };
  readonly exit: ExitInfo;
  /** the component must follow the full callback sequence */
  readonly strict: boolean;
  /** the steps the session accepted */
  readonly seen: ReadonlySet<ContractStep>;
  /** the engine killed it for its timeout */
  readonly timedOut: boolean;
  /** the engine killed it because the run or task run was cancelled */
  readonly cancelled: boolean;
}

/** A task run's outcome as decided by the contract. */
export interface Verdict {
  readonly state: 'succeeded' | 'failed' | 'cancelled';
  /** why it did not succeed, short (`timeout`, `exited with code 2`); null on success */
  readonly reason: string | null;
  /** the component's own message (TASK_RESULT), or the detail of a contract violation */
  readonly message?: string;
  /** [COUT] outputs overlaid by the TASK_RESULT output (the result wins per key) */
  readonly output: JsonObject;
}

/** The steps a strict component must call, in order (task-status is optional even then). */
const STRICT_STEPS: readonly ContractStep[] = ['component-start', 'task-start', 'task-result', 'component-stop'];

/**
 * The result rules of the contract (docs/contract.md), first match wins:
 * 1. cancelled → cancelled; timeout → failed `timeout`; killed for memory → failed
 *    `out of memory`; killed by a signal → failed `killed by signal SIG…`; ended with no exit
 *    code → failed with the executor's reason.
 * 2. A posted TASK_RESULT decides: failure → failed `reported failure`; success with a non-zero
 *    exit → failed `reported success but exited with code N`.
 * 3. A strict component that skipped a step (component-start, task-start, task-result,
 *    component-stop) fails, naming the first one missing.
 * 4. No TASK_RESULT: `[COUT] CO_RESULT` if given (success still needs exit 0), else exit 0
 *    succeeds and any other code fails `exited with code N`.
 * Pure.
 */
export function decideVerdict(input: VerdictInput): Verdict {
  const { result, cout, exit } = input;
  const output: JsonObject = { ...cout.output, ...result?.output };
  const message = result?.message;
  const ended = (state: Verdict['state'], reason: string | null, detail = message): Verdict =>
    detail === undefined ? { state, reason, output } : { state, reason, message: detail, output };

  if (input.cancelled || exit.reason === 'cancelled') return ended('cancelled', 'cancelled');
  if (input.timedOut || exit.reason === 'timeout') return ended('failed', 'timeout');
  if (exit.oomKilled === true) return ended('failed', 'out of memory');
  if (exit.exitCode === null) {
    if (exit.signal !== undefined) return ended('failed', `killed by signal ${exit.signal}`);
    return ended('failed', exit.reason ?? 'ended without an exit code');
  }
  const nonZero = exit.exitCode !== 0 ? `exited with code ${exit.exitCode}` : undefined;

  if (result?.status === 'failure') return ended('failed', 'reported failure');
  if (result !== undefined && nonZero !== undefined) return ended('failed', `reported success but ${nonZero}`);
  if (input.strict) {
    const missing = STRICT_STEPS.find((step) => !input.seen.has(step));
    if (missing !== undefined) {
      return ended('failed', `missing ${missing}`, `strict component never called ${missing} (${STEP_ENV[missing]})`);
    }
  }
  if (result !== undefined) return ended('succeeded', null);

  if (cout.result === 'failure') return ended('failed', 'reported failure', '[COUT] CO_RESULT=false');
  if (nonZero !== undefined) {
    return ended('failed', cout.result === 'success' ? `reported success but ${nonZero}` : nonZero);
  }
  return ended('succeeded', null);
}
