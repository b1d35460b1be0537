import type { Command } from 'commander';
import type { RecordedDecision } from '../../service/approval-service.js';
import { apiClient, type ServerFlags } from '../api-client.js';
import { EXIT, print, reportError } from '../output.js';

interface Flags extends ServerFlags {
  comment?: string;
  json?: boolean;
}

/**
 * `pilotage approve RUN STAGE` and `pilotage reject RUN STAGE`: decide a waiting approval stage
 * over the API (a `run` token); the token's name is recorded as the approver, with `--comment`.
 */
export function registerApprove(program: Command): void {
  for (const verb of ['approve', 'reject'] as const) {
    program
      .command(verb)
      .description(`${verb} a run's approval stage that waits for a decision`)
      .argument('<run>', 'run id')
      .argument('<stage>', 'the approval stage')
      .option('--comment <text>', 'why; recorded with the decision')
      .option('--server <url>', 'the Pilotage server (PILOTAGE_SERVER)')
      .option('--token <token>', 'an API token with the run scope (PILOTAGE_TOKEN)')
      .option('--json', 'JSON output')
      .action(async (run: string, stage: string, flags: Flags) => {
        try {
          const path = `/v1/runs/${encodeURIComponent(run)}/stages/${encodeURIComponent(stage)}/${verb}`;
          const recorded = await apiClient(flags).request<RecordedDecision>(
            'POST',
            path,
            flags.comment === undefined ? {} : { comment: flags.comment },
          );
          print(flags.json ? recorded : `${stage} of run ${run}: ${recorded.taskRun.message ?? recorded.decision}`);
          process.exitCode ??= EXIT.ok;
        } catch (error) {
          process.exitCode = reportError(error, flags.json === true);
        }
      });
  }
}
