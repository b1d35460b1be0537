import { ConflictError, NotFoundError } from '../domain/errors.js';
import { isTaskEnded } from '../domain/states.js';
import { APPROVAL_COMPONENT, type ApprovalDecision } from '../engine/approval-gate.js';
import type { Engine } from '../engine/engine.js';
import type { Plan } from '../plan/types.js';
import type { Store, TaskRunRecord } from '../store/types.js';

/** An approval stage waiting for a decision. */
export interface WaitingApproval {
  readonly runId: string;
  readonly runNumber: number;
  readonly workflow: string;
  readonly workflowVersion: string | null;
  readonly stage: string;
  /** the approval task run */
  readonly taskRunId: string;
  /** when it started waiting, epoch ms */
  readonly since: number;
  /** when it fails unless decided, epoch ms (null: no timeout) */
  readonly timeoutAt: number | null;
}

/** A decision as recorded. */
export interface RecordedDecision {
  readonly runId: string;
  readonly stage: string;
  readonly decision: 'approved' | 'rejected';
  readonly by: string;
  readonly comment: string | null;
  /** the approval task run after the decision: state, message and reason say who decided and why */
  readonly taskRun: TaskRunRecord;
}

/** Lists and decides approval stages. */
export interface ApprovalService {
  /** Every approval stage waiting now, oldest first. */
  waiting(): Promise<WaitingApproval[]>;
  /**
   * Approve or reject stage `stage` of run `runId` as `by`, and resolve once the decision is
   * recorded. Throws NotFoundError (no such run, or no approval stage of that name) or
   * ConflictError (the stage is not waiting: decided, timed out, not reached, the run ended, or
   * another replica carries the run).
   */
  decide(input: {
    runId: string;
    stage: string;
    approved: boolean;
    by: string;
    comment?: string;
  }): Promise<RecordedDecision>;
}

/** How long `decide` waits for the engine to record a decision, ms. */
const RECORD_WAIT_MS = 10_000;
/** How long a decision waits for a gate the engine is bringing up again (a run resuming), ms. */
const GATE_WAIT_MS = 3000;

/**
 * `engine.decide`, but when the store shows the stage waiting in a run this engine carries out,
 * and the gate is not up yet (the run is resuming after a restart), try again for a moment.
 */
async function decideSoon(
  deps: { store: Store; engine: Engine },
  runId: string,
  stage: string,
  decision: ApprovalDecision,
): Promise<void> {
  const deadline = Date.now() + GATE_WAIT_MS;
  for (;;) {
    try {
      deps.engine.decide(runId, stage, decision);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || Date.now() > deadline) throw error;
      const waiting = (await deps.store.taskRuns.listByRun(runId)).some(
        (t) => t.stage === stage && t.component === APPROVAL_COMPONENT && !isTaskEnded(t.state),
      );
      if (!waiting || !deps.engine.activeRuns().includes(runId)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The service over the store (reads) and the engine (decisions). */
export function createApprovalService(deps: { store: Store; engine: Engine }): ApprovalService {
  return {
    async waiting() {
      const out: WaitingApproval[] = [];
      for (const run of await deps.store.runs.listByState(['running'])) {
        const stages = (run.plan as unknown as Plan).stages;
        for (const task of await deps.store.taskRuns.listByRun(run.id)) {
          if (task.component !== APPROVAL_COMPONENT || task.state !== 'running') continue;
          const since = task.startedAt ?? task.createdAt;
          const timeoutMs = stages.find((s) => s.name === task.stage)?.approvalTimeoutMs;
          out.push({
            runId: run.id,
            runNumber: run.number,
            workflow: run.workflow,
            workflowVersion: run.workflowVersion,
            stage: task.stage,
            taskRunId: task.id,
            since,
            timeoutAt: timeoutMs === undefined ? null : since + timeoutMs,
          });
        }
      }
      return out.sort((a, b) => a.since - b.since);
    },

    async decide(input) {
      const run = await deps.store.runs.get(input.runId);
      if (run === undefined) throw new NotFoundError(`run ${input.runId} not found`);
      const stage = (run.plan as unknown as Plan).stages.find((s) => s.name === input.stage);
      if (stage?.type !== 'approval') {
        throw new NotFoundError(`run ${input.runId} (workflow ${run.workflow}) has no approval stage ${input.stage}`);
      }
      let stopWaiting: () => void = () => undefined;
      const recorded = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECORD_WAIT_MS);
        const unsubscribe = deps.engine.subscribe((update) => {
          if (update.kind === 'task' && update.task.runId === run.id && update.task.stage === stage.name) {
            if (isTaskEnded(update.task.state)) stopWaiting();
          }
        });
        stopWaiting = () => {
          clearTimeout(timer);
          unsubscribe();
          resolve();
        };
      });
      // an empty comment is no comment
      const comment = input.comment === '' ? undefined : input.comment;
      const decision = { approved: input.approved, by: input.by, ...(comment === undefined ? {} : { comment }) };
      try {
        await decideSoon(deps, run.id, stage.name, decision);
      } catch (error) {
        stopWaiting();
        throw error;
      }
      await recorded;
      stopWaiting();
      const task = (await deps.store.taskRuns.listByRun(run.id)).filter((t) => t.stage === stage.name).at(-1);
      if (task === undefined) throw new ConflictError(`run ${run.id}: the approval of ${stage.name} was not recorded`);
      return {
        runId: run.id,
        stage: stage.name,
        decision: input.approved ? 'approved' : 'rejected',
        by: input.by,
        comment: comment ?? null,
        taskRun: task,
      };
    },
  };
}
