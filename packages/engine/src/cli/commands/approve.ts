import type { Command } from 'commander';
import { routes } from '@pilotage/api';
import { isTaskEnded, type TaskRunState } from '../../domain/states.js';
import { createApprovalService, storeDecider, type RecordedDecision } from '../../service/approval-service.js';
import { endAbandonedCliRuns } from '../abandoned-runs.js';
import { localUser } from '../local-user.js';
import { configFrom } from '../runtime-flags.js';
import { print } from '../output.js';
import { connectionOptions, type RemoteFlags } from '../with-server.js';
import { onServerOrStore } from '../with-store.js';

interface Flags extends RemoteFlags {
  db?: string;
  comment?: string;
}

/**
 * `pilotage approve RUN STAGE` and `pilotage reject RUN STAGE`: decide a waiting approval stage,
 * on a server (a `run` token, whose name is recorded as the approver) or on a local store (the OS
 * user is recorded), chosen as every command that can do both chooses (`serverGiven`: `--server`,
 * then `--db`, then PILOTAGE_SERVER). On a local store the decision is written to the store and
 * the process that carries the run (`pilotage run`, `serve`) moves the stage on at its next
 * heartbeat (5 s at most); the command waits up to 10 s to show that.
 */
export function registerApprove(program: Command): void {
  for (const verb of ['approve', 'reject'] as const) {
    connectionOptions(
      program
        .command(verb)
        .description(`${verb} a run's approval stage that waits for a decision (local store, or a server)`)
        .argument('<run>', 'run id')
        .argument('<stage>', 'the approval stage')
        .option('--comment <text>', 'why; recorded with the decision'),
      'run',
      'a Pilotage server (PILOTAGE_SERVER); default the local store',
    )
      .option('--db <path|url>', 'local store (PILOTAGE_DB): the one the waiting `pilotage run` uses')
      .option('--json', 'JSON output')
      .action(async (run: string, stage: string, flags: Flags) => {
        const approved = verb === 'approve';
        await onServerOrStore(flags, {
          remote: async (client) => {
            const recorded = await client.call(approved ? routes.approveStage : routes.rejectStage, {
              params: { id: run, stage },
              body: flags.comment === undefined ? {} : { comment: flags.comment },
            });
            print(flags.json ? recorded : decisionLine(recorded));
          },
          local: async (store) => {
            // a run whose pilotage run process died is ended first: nobody would move its stage on
            await endAbandonedCliRuns(store, configFrom({ db: flags.db }));
            const approvals = createApprovalService({ store, engine: storeDecider(store) });
            const recorded = await approvals.decide({
              runId: run,
              stage,
              approved,
              by: localUser(),
              ...(flags.comment === undefined ? {} : { comment: flags.comment }),
            });
            print(flags.json ? recorded : decisionLine(recorded));
          },
        });
      });
  }
}

/** What a decision did, and a word when no process has moved the stage on yet. */
function decisionLine(recorded: {
  readonly runId: string;
  readonly stage: string;
  readonly decision: RecordedDecision['decision'];
  readonly taskRun: { readonly state: string; readonly message: string | null };
}): string {
  const { taskRun } = recorded;
  const line = `${recorded.stage} of run ${recorded.runId}: ${taskRun.message ?? recorded.decision}`;
  if (isTaskEnded(taskRun.state as TaskRunState)) return line;
  return `${line} (recorded; the process carrying the run has not moved the stage on yet: it does at its next heartbeat)`;
}
