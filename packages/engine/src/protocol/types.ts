import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { ContractStep } from '../store/types.js';

/**
 * The component callback contract, as the engine sees it (docs/contract.md is the user's view).
 *
 * URLs: `<base>/v1/callbacks/<token>/<step>` for the five steps (POST), `<base>/v1/callbacks/<token>/data`
 * (GET, the event data) and `<base>/v1/callbacks/<token>/cdevent` (POST, a component-reported CDEvent).
 * `<token>` is the per-task-run secret; the registry is keyed by its sha256 (`hashToken`).
 */
export type { ContractStep } from '../store/types.js';

/** The callback steps in contract order. */
export const CONTRACT_STEPS: readonly ContractStep[] = [
  'component-start',
  'task-start',
  'task-status',
  'task-result',
  'component-stop',
];

/** Env var names of the five callback URLs, by step. */
export const STEP_ENV: Readonly<Record<ContractStep, string>> = {
  'component-start': 'CO_COMPONENT_START',
  'task-start': 'CO_TASK_START',
  'task-status': 'CO_TASK_STATUS',
  'task-result': 'CO_TASK_RESULT',
  'component-stop': 'CO_COMPONENT_STOP',
};

/** A TASK_STATUS body. */
export interface StatusBody {
  readonly message?: string;
  /** 0..1 */
  readonly progress?: number;
  readonly output?: JsonObject;
}

/** A TASK_RESULT body. */
export interface ResultBody {
  readonly status: 'success' | 'failure';
  readonly output?: JsonObject;
  readonly message?: string;
}

/** An accepted callback, handed to the listener. */
export type AcceptedStep =
  | { readonly step: 'component-start' | 'task-start' | 'component-stop' }
  | { readonly step: 'task-status'; readonly body: StatusBody }
  | { readonly step: 'task-result'; readonly body: ResultBody };

/** The engine's side of a session: persists each accepted step before the component gets 200. */
export interface ContractListener {
  /**
   * Called once per accepted step (never for an idempotent repeat), in the order accepted.
   * If it rejects, the component gets 500 and the step is not counted as seen.
   */
  onStep(accepted: AcceptedStep, at: number): Promise<void>;
  /**
   * A component-reported CDEvent (`CO_CDEVENT`); optional. Resolve with an error text to answer
   * 400, or undefined when accepted.
   */
  onCdevent?(event: JsonObject, at: number): Promise<string | undefined>;
  /**
   * A call was refused (400 or 409); optional, for reports such as `pilotage component test`.
   * Must not throw.
   */
  onRefused?(step: string, status: number, code: string, message: string, at: number): void;
  /**
   * A step that another replica accepted and recorded in the store (`ContractSession.absorb`),
   * new to this session; optional. Must not throw.
   */
  onAbsorbed?(step: ContractStep): void;
}

/** What a session is told at registration. */
export interface SessionOptions {
  readonly taskRunId: string;
  readonly runId: string;
  /** the event data served at `/data` */
  readonly eventData: JsonValue;
  /** validate a TASK_RESULT (and TASK_STATUS) output; returns an error text or undefined */
  readonly validateOutput?: (output: JsonObject) => string | undefined;
  /**
   * validate a TASK_STATUS output (interim, so it may be partial: the outputs schema without its
   * `required` lists); default `validateOutput`
   */
  readonly validateStatusOutput?: (output: JsonObject) => string | undefined;
  readonly listener: ContractListener;
  /**
   * For a session re-opened after an engine restart: the steps already accepted and the result
   * already recorded, so that repeats stay idempotent and the sequence continues.
   */
  readonly restored?: { readonly seen: readonly ContractStep[]; readonly result?: ResultBody };
}
