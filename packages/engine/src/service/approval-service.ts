import { NotFoundError } from '../domain/errors.js';
import { isTaskEnded } from '../domain/states.js';
import { recordDecision } from '../engine/approval-decision.js';
import { APPROVAL_COMPONENT } from '../engine/approval-gate.js';
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
   * Approve or reject stage `stage` of run `runId` as `by`, on any replica: the decision is
   * recorded in the store at once (the first one wins), then this resolves once the run's holder
   * has moved the stage on (or after 10 s, with the task run as it is then). Throws NotFoundError
   * (no such run, or no approval stage of that name) or ConflictError (the stage is not waiting:
   * decided, timed out, not reached, or the run ended).
   */
  decide(input: {
    runId: string;
    stage: string;
    approved: boolean;
    by: string;
    comment?: string;
  }): Promise<RecordedDecision>;
}

/** How long `decide` waits for the run's holder to move the stage on, ms. */
const RECORD_WAIT_MS = 10_000;
/** How often `decide` reads the stage again while waiting (besides this replica's live updates), ms. */
const RECORD_POLL_MS = 100;

/**
 * Task run `taskRunId` once it has ended (the run's holder, on any replica, moved it on), or as
 * it is after RECORD_WAIT_MS.
 */
async function settledTask(deps: ApprovalServiceDeps, taskRunId: string): Promise<TaskRunRecord | undefined> {
  const deadline = Date.now() + RECORD_WAIT_MS;
  for (;;) {
    const task = await deps.store.taskRuns.get(taskRunId);
    if (task === undefined || isTaskEnded(task.state) || Date.now() > deadline) return task;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, RECORD_POLL_MS);
      const off = deps.engine.subscribe((update) => {
        if (update.kind === 'task' && update.task.id === taskRunId) done();
      });
      function done(): void {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }
}

/**
 * What the service needs: the store (reads), and what records a decision and says when a task
 * run changed: the engine (a server), or `storeDecider` (a CLI with no engine of its own).
 */
export interface ApprovalServiceDeps {
  readonly store: Store;
  readonly engine: Pick<Engine, 'decide' | 'subscribe'>;
}

/**
 * Decisions recorded in the store alone, for a process that carries no run (`pilotage approve
 * --db`): the run's holder, another process, finds them on the change feed or at its next
 * heartbeat. Nothing is heard of the holder's updates: `decide` polls the store.
 */
export function storeDecider(store: Store): ApprovalServiceDeps['engine'] {
  return {
    async decide(runId, stage, decision) {
      const gate = await recordDecision(store, runId, stage, decision);
      store.changes.publish({ kind: 'intent', runId });
      return gate;
    },
    subscribe: () => () => undefined,
  };
}

/** The service over the store (reads) and the engine (decisions). */
export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
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
      // an empty comment is no comment
      const comment = input.comment === '' ? undefined : input.comment;
      const decision = { approved: input.approved, by: input.by, ...(comment === undefined ? {} : { comment }) };
      // recorded in the store at once, whichever replica carries the run; its holder moves it on
      const decided = await deps.engine.decide(run.id, stage.name, decision);
      const task = (await settledTask(deps, decided.id)) ?? decided;
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
