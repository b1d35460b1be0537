import type { Command } from 'commander';
import { routes } from '@pilotage/api';
import { print } from '../output.js';
import { serverOptions, withServer, type RemoteFlags } from '../with-server.js';

interface Flags extends RemoteFlags {
  comment?: string;
}

/**
 * `pilotage approve RUN STAGE` and `pilotage reject RUN STAGE`: decide a waiting approval stage
 * over the API (a `run` token); the token's name is recorded as the approver, with `--comment`.
 */
export function registerApprove(program: Command): void {
  for (const verb of ['approve', 'reject'] as const) {
    serverOptions(
      program
        .command(verb)
        .description(`${verb} a run's approval stage that waits for a decision`)
        .argument('<run>', 'run id')
        .argument('<stage>', 'the approval stage')
        .option('--comment <text>', 'why; recorded with the decision'),
      'run',
    ).action((run: string, stage: string, flags: Flags) =>
      withServer(flags, async (client) => {
        const recorded = await client.call(verb === 'approve' ? routes.approveStage : routes.rejectStage, {
          params: { id: run, stage },
          body: flags.comment === undefined ? {} : { comment: flags.comment },
        });
        print(flags.json ? recorded : `${stage} of run ${run}: ${recorded.taskRun.message ?? recorded.decision}`);
      }),
    );
  }
}
