import { messageOf } from '../domain/errors.js';
import type { Executor, RunWorkspace } from '../executor/executor.js';
import type { PlanAction, PlanStage } from '../plan/types.js';
import type { RunRecord } from '../store/types.js';
import type { EngineContext } from './engine-context.js';
import type { ExecutorSet } from './ports.js';

/**
 * The run-scoped resources of one run on each executor it uses (`Executor.prepareRun` /
 * `releaseRun`): a workspace is prepared at the first attempt on an executor, and everything is
 * released once, before the run's end is recorded.
 */
export class RunWorkspaces {
  private readonly prepared = new Map<string, Promise<RunWorkspace>>();
  private released = false;
  /** the plan's actions that run on an executor (a called workflow has its own run) */
  private readonly actions: readonly PlanAction[];

  constructor(
    private readonly ctx: EngineContext,
    private readonly run: Pick<RunRecord, 'id' | 'workflow' | 'workspace'>,
    private readonly executorOf: (action: PlanAction) => string,
    stages: readonly PlanStage[],
  ) {
    this.actions = stages.flatMap((stage) => stage.actions).filter((action) => action.uses === undefined);
  }

  /**
   * The run's workspace on an executor: `prepareRun` at the first call, the same promise after.
   * A failed preparation is forgotten, so that a retry prepares again.
   */
  on(executorName: string): Promise<RunWorkspace> {
    let workspace = this.prepared.get(executorName);
    if (workspace === undefined) {
      const executor = this.ctx.executors.get(executorName);
      const actions = this.actions.filter((a) => this.executorOf(a) === executorName);
      const from = this.run.workspace.from;
      const cachedPaths = actions.some((a) => (a.cache?.paths.length ?? 0) > 0);
      workspace = executor.prepareRun({
        runId: this.run.id,
        workflow: this.run.workflow,
        actions: actions.length,
        ...(from === null ? {} : { copyFrom: from }),
        ...(cachedPaths ? { cachedPaths } : {}),
      });
      this.prepared.set(executorName, workspace);
      workspace.catch(() => this.prepared.delete(executorName));
    }
    return workspace;
  }

  /**
   * Release the run's resources on every executor its plan names (not only those prepared by
   * this process: a run resumed after a restart may have nothing left to start), keeping the
   * workspaces when `keep`. Once; failures are warned, recovery retries what executors list
   * (`Executor.listRuns`).
   */
  async release(keep: boolean): Promise<void> {
    if (this.released) return;
    this.released = true;
    const names = new Set([...this.prepared.keys(), ...this.actions.map((a) => this.executorOf(a))]);
    await Promise.all(
      [...names].map(async (name) => {
        let executor: Executor;
        try {
          executor = this.ctx.executors.get(name);
        } catch {
          return; // not configured in this engine: nothing of the run was prepared on it here
        }
        try {
          await executor.releaseRun(this.run.id, { keep });
        } catch (error) {
          this.ctx.warn(`run ${this.run.id}: could not release its resources on ${name}: ${messageOf(error)}`);
        }
      }),
    );
  }
}

/**
 * Remove run `runId`'s kept workspace on every executor of `executors` (a kept workspace that
 * expired: only the store knows which executors the run used). Rejects, naming the executors,
 * when one could not remove it, so that the caller tries again later.
 */
export async function releaseKeptWorkspace(executors: ExecutorSet, runId: string): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    executors.all().map((executor) =>
      executor.releaseRun(runId, { keep: false }).catch((error: unknown) => {
        failures.push(`${executor.name}: ${messageOf(error)}`);
      }),
    ),
  );
  if (failures.length > 0) throw new Error(`cannot remove the workspace of run ${runId} (${failures.join('; ')})`);
}
