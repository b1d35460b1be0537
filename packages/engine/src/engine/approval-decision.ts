import { ConflictError } from '../domain/errors.js';
import type { Store, TaskRunRecord } from '../store/types.js';
import { describeDecision, type ApprovalDecision } from './approval-gate.js';

/**
 * Record `decision` on approval stage `stage` of run `runId`, in the store only, from any process
 * (a replica, or a CLI beside a `pilotage run`): the first decision wins. The run's holder finds
 * it when it is told (`intent` on the change feed) or at its next heartbeat, and moves the stage
 * on. Resolves with the gate's task run as decided; ConflictError when that stage is not waiting
 * for a decision (decided, timed out, not reached, or the run ended).
 */
export async function recordDecision(
  store: Pick<Store, 'taskRuns'>,
  runId: string,
  stage: string,
  decision: ApprovalDecision,
): Promise<TaskRunRecord> {
  const gate = (await store.taskRuns.listByRun(runId)).find(
    (t) => t.stage === stage && t.executor === 'none' && t.state === 'running',
  );
  if (gate === undefined || gate.result !== null) {
    throw new ConflictError(`run ${runId} has no approval stage ${stage} waiting for a decision`);
  }
  const text = describeDecision(decision);
  const output = { approved: decision.approved, by: decision.by, comment: decision.comment ?? '' };
  const result = decision.approved ? ('success' as const) : ('failure' as const);
  if (!(await store.taskRuns.decide(gate.id, { result, output, message: text }))) {
    throw new ConflictError(`run ${runId} has no approval stage ${stage} waiting for a decision`);
  }
  return { ...gate, result, output, message: text };
}
