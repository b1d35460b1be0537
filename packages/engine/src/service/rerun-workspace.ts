import { WorkspaceExpiredError } from '../domain/errors.js';
import type { RerunFrom } from '../engine/reuse.js';
import type { RunRecord } from '../store/types.js';

/** How a rerun gets its workspace. */
export interface RerunWorkspaceRequest {
  /** where the rerun starts */
  readonly from: RerunFrom;
  /** how many results of the earlier run it reuses */
  readonly reused: number;
  /** run with an empty workspace even when the earlier one is gone (or kept) */
  readonly emptyWorkspace: boolean;
}

/**
 * The run whose kept workspace a rerun of `old` starts from (`RunScope.copyFrom`), or undefined
 * for an empty one. From the failed action, the rerun copies `old`'s kept workspace; from the
 * start, or when asked, it gets an empty one. When it would reuse results but `old`'s workspace
 * expired or was not kept, the files those actions made are gone: WorkspaceExpiredError says
 * so and how to go on, unless `emptyWorkspace` is asked.
 */
export function rerunWorkspaceFrom(old: RunRecord, request: RerunWorkspaceRequest): string | undefined {
  if (request.from === 'start' || request.emptyWorkspace) return undefined;
  if (old.workspace.state === 'kept') return old.id;
  if (request.reused === 0) return undefined;
  const why =
    old.workspace.state === 'expired'
      ? `expired${old.workspace.expiresAt === null ? '' : ` at ${new Date(old.workspace.expiresAt).toISOString()}`} and was removed (workspaces of runs that did not succeed are kept for the workspaceRetention setting, PILOTAGE_WORKSPACE_RETENTION, 24h by default)`
      : 'was not kept (workspaceRetention was 0 when it ended, or it ended before workspaces were kept)';
  throw new WorkspaceExpiredError(
    `the workspace of run ${old.id} ${why}: the files made by the ${request.reused} action(s) this rerun would reuse are gone. ` +
      'Rerun from the start (--from start; API: "from": "start"), or, if the later actions do not need those files, ' +
      'with an empty workspace (--empty-workspace; API: "emptyWorkspace": true)',
  );
}
