import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { assertRerunnable, reusableResults } from '../../engine/reuse.js';
import type { Plan } from '../../plan/types.js';
import { rerunWorkspaceFrom } from '../../service/rerun-workspace.js';
import { localUser } from '../local-user.js';
import { reportError } from '../output.js';
import { runHere, type LocalRunFlags } from './run.js';

/** The flags of `runs retry` on a local store. */
export interface RetryLocalFlags extends LocalRunFlags {
  readonly from: string;
  readonly emptyWorkspace?: boolean;
}

/**
 * `pilotage runs retry RUN` without a server: a rerun of an ended run of the local store, carried
 * by this process as `pilotage run` carries one (live view, exit code = its result). It runs the
 * plan the run recorded (what ran then, as a server's rerun runs the same stored version), with
 * the same inputs; from the failed action it reuses what succeeded and starts from a copy of the
 * run's kept workspace, as a server's rerun does (engine/reuse.ts, service/rerun-workspace.ts).
 * `--secret` values are never stored: give them again.
 */
export async function retryLocal(id: string, flags: RetryLocalFlags): Promise<number> {
  const from = flags.from;
  // checked before anything is opened
  if (from !== 'failed' && from !== 'start') {
    return reportError(new ValidationError(`--from must be failed or start, got "${from}"`), flags.json === true);
  }
  return runHere(flags, async ({ store, engine }) => {
    const old = await store.runs.get(id);
    if (old === undefined) throw new NotFoundError(`run ${id} not found`);
    assertRerunnable(old, from);
    const reuse = reusableResults(await store.taskRuns.listByRun(old.id), from);
    const workspaceFrom = rerunWorkspaceFrom(old, {
      from,
      reused: reuse.size,
      emptyWorkspace: flags.emptyWorkspace === true,
    });
    return {
      plan: old.plan as unknown as Plan,
      data: await engine.inputsOf(old),
      options: {
        trigger: { kind: 'rerun', by: localUser(), details: { of: old.id, from } },
        workflowVersion: old.workflowVersion,
        reuse,
        ...(workspaceFrom === undefined ? {} : { workspaceFrom }),
      },
    };
  });
}
