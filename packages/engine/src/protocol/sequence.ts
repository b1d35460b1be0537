import type { AcceptedStep, ContractStep, ResultBody } from './types.js';
import { CONTRACT_STEPS } from './types.js';

/** What the order check needs to know about one session. */
export interface SequenceState {
  readonly seen: ReadonlySet<ContractStep>;
  /** the accepted TASK_RESULT, if any */
  readonly result?: ResultBody;
  /** the task run's state once the engine ended the session */
  readonly endedState?: string;
}

/** Stable codes of a 409 answer. */
export type SequenceErrorCode = 'OUT_OF_SEQUENCE' | 'TASK_RUN_ENDED' | 'RESULT_CONFLICT';

/**
 * The verdict on one incoming step: `accept` (new: call the listener, then mark it seen),
 * `repeat` (an identical repeat of an accepted step: answer 200, do not call the listener) or
 * `reject` (answer 409 with `code`, `message` and `state`).
 */
export type SequenceDecision =
  | { readonly kind: 'accept' }
  | { readonly kind: 'repeat' }
  | {
      readonly kind: 'reject';
      readonly code: SequenceErrorCode;
      readonly message: string;
      /** the task run's state once ended, else the latest contract step seen (`not-started`) */
      readonly state: string;
    };

/** The step each step needs first. task-status and task-result need task-start, and so on. */
const NEEDS: Readonly<Partial<Record<ContractStep, ContractStep>>> = {
  'task-start': 'component-start',
  'task-status': 'task-start',
  'task-result': 'task-start',
  'component-stop': 'component-start',
};

/** The latest step seen in contract order, or `not-started`: the `state` of a 409 answer. */
export function contractState(seen: ReadonlySet<ContractStep>): string {
  let latest = 'not-started';
  for (const step of CONTRACT_STEPS) if (seen.has(step)) latest = step;
  return latest;
}

/**
 * Decide whether `incoming` fits the session's sequence. Rules, checked in this order:
 * 1. after the engine ended the session nothing is accepted (TASK_RUN_ENDED);
 * 2. a repeat of an accepted component-start, task-start or component-stop is idempotent; a
 *    repeated task-result is idempotent when its body is the same JSON (key order aside), a
 *    different one is RESULT_CONFLICT;
 * 3. nothing new after component-stop, no task-status after task-result (OUT_OF_SEQUENCE);
 * 4. task-start needs component-start, task-status and task-result need task-start,
 *    component-stop needs component-start (OUT_OF_SEQUENCE, "expected X first").
 * Pure: the caller applies the decision.
 */
export function checkSequence(state: SequenceState, incoming: AcceptedStep): SequenceDecision {
  const { step } = incoming;
  if (state.endedState !== undefined) {
    return reject(
      'TASK_RUN_ENDED',
      `${step} refused: the task run has already ended (${state.endedState}); no callback is accepted after that`,
      state.endedState,
    );
  }
  const current = contractState(state.seen);
  if (step !== 'task-status' && state.seen.has(step)) {
    if (incoming.step !== 'task-result' || state.result === undefined) return { kind: 'repeat' };
    if (sameJson(incoming.body, state.result)) return { kind: 'repeat' };
    return reject(
      'RESULT_CONFLICT',
      'task-result refused: a different task-result was already accepted; a task reports its result once',
      current,
    );
  }
  if (state.seen.has('component-stop')) {
    return reject(
      'OUT_OF_SEQUENCE',
      `${step} refused: component-stop was already received; nothing may follow it`,
      current,
    );
  }
  const needed = NEEDS[step];
  if (needed !== undefined && !state.seen.has(needed)) {
    return reject('OUT_OF_SEQUENCE', `${step} is out of sequence: expected ${needed} first`, current);
  }
  if (step === 'task-status' && state.seen.has('task-result')) {
    return reject('OUT_OF_SEQUENCE', 'task-status is out of sequence: task-result was already accepted', current);
  }
  return { kind: 'accept' };
}

function reject(code: SequenceErrorCode, message: string, state: string): SequenceDecision {
  return { kind: 'reject', code, message, state };
}

/** Structural JSON equality (object key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const keysB = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return keys.length === keysB.length && keys.every((k) => Object.hasOwn(rb, k) && sameJson(ra[k], rb[k]));
}
