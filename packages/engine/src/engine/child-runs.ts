import { ConflictError } from '../domain/errors.js';
import type { TraceContext } from '../domain/trace-context.js';
import type { JsonValue } from '../domain/vocabulary.js';
import type { Plan } from '../plan/types.js';
import type { RunParent, RunRecord, TaskRunRecord, TriggerInfo } from '../store/types.js';
import type { ChildRuns } from './ports.js';

/** The options of `Engine.startRun` a child run sets (`StartRunOptions` fits). */
export interface ChildStartOptions {
  readonly trigger: TriggerInfo;
  readonly chainId: string;
  readonly secrets: Readonly<Record<string, string>>;
  readonly workflowVersion: string | null;
  readonly parent: RunParent;
  readonly here: boolean;
  readonly traceParent?: TraceContext;
  readonly reuse?: ReadonlyMap<string, TaskRunRecord>;
}

/** What the child runs port needs of its engine. */
export interface ChildRunsEngine {
  startRun(plan: Plan, data: JsonValue, options: ChildStartOptions): Promise<RunRecord>;
  cancelRun(runId: string, message: string): Promise<void>;
  /** resolves with the run's final record, whichever replica carries it */
  waitForRun(runId: string): Promise<RunRecord>;
}

/**
 * The `ChildRuns` port of an engine: a child run is a run like any other (its own record, events,
 * claim and recovery), started with trigger `call`, its caller's chain id, secrets and trace,
 * linked to the calling task run, and carried out on the caller's replica when nothing makes it
 * wait for a claim.
 */
export function engineChildRuns(engine: ChildRunsEngine): ChildRuns {
  return {
    start(request) {
      const { parent } = request;
      return engine.startRun(request.plan, request.data, {
        trigger: {
          kind: 'call',
          by: `${parent.workflow} #${parent.number}`,
          details: {
            runId: parent.id,
            taskRunId: request.taskRunId,
            ...(request.rerun ? { rerunOf: request.rerun.of } : {}),
          },
        },
        chainId: parent.chainId,
        secrets: request.secrets,
        workflowVersion: request.workflowVersion,
        parent: { runId: parent.id, taskRunId: request.taskRunId },
        here: true,
        ...(request.traceParent ? { traceParent: request.traceParent } : {}),
        ...(request.rerun ? { reuse: request.rerun.reuse } : {}),
        ...(request.rerun?.workspaceFrom === undefined ? {} : { workspaceFrom: request.rerun.workspaceFrom }),
      });
    },
    wait: (runId) => engine.waitForRun(runId),
    cancel: (runId, message) => cancelIfRunning(engine, runId, message),
  };
}

/** Cancel a run unless it has ended (a ConflictError says so: nothing to do). */
export async function cancelIfRunning(
  engine: Pick<ChildRunsEngine, 'cancelRun'>,
  runId: string,
  message: string,
): Promise<void> {
  try {
    await engine.cancelRun(runId, message);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
