import type { Masker } from '../domain/masker.js';
import type { TaskRunState } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { RunWorkspace } from '../executor/executor.js';
import type { Combination } from '../plan/matrix.js';
import type { ExpressionContext, Plan, PlanAction } from '../plan/types.js';
import type { RunRecord, TaskRunRecord } from '../store/types.js';
import type { EngineContext } from './engine-context.js';
import type { Semaphore } from './semaphore.js';

/**
 * What running one action (or one combination of a matrix) needs from its run. `RunExecution`
 * is the one implementation; `runAction`, `runMatrix` and `recordEnded` are written against it.
 */
export interface RunHost {
  readonly ctx: EngineContext;
  /** the run's current record */
  readonly run: RunRecord;
  readonly plan: Plan;
  /** masks the run's secrets in everything stored */
  readonly masker: Masker;
  /** the secrets the run may read (a child run of it may read them too) */
  readonly secrets: Readonly<Record<string, string>>;
  /** The run's workspace on an executor, prepared at the first call (`Executor.prepareRun`). */
  workspaceOn(executorName: string): Promise<RunWorkspace>;
  /** the run's own cap of running actions (`plan.concurrency`) */
  readonly slots: Semaphore;
  /** the task runs the store held when the run started or resumed (recovery reuses them) */
  readonly existing: readonly TaskRunRecord[];
  /** The expression context now (with `matrix` for a combination's task run). */
  context(matrix?: Combination): ExpressionContext;
  /**
   * The action's event data and env rendered now, in `context(matrix)` (the event data is the
   * error when rendering failed).
   */
  prepare(action: PlanAction, matrix?: Combination): { eventData: JsonValue | Error; env: Record<string, string> };
  /** The executor an action runs on: its own, else the workflow's, else the engine's default. */
  executorOf(action: PlanAction): string;
}

/** How an action (or one combination of a matrix) ended, with its unmasked outputs. */
export interface ActionOutcome {
  readonly state: TaskRunState;
  readonly output: JsonObject;
}
