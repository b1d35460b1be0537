import type { Command } from 'commander';
import { repeated } from './repeated-option.js';

/**
 * The options of a run this process carries on the local store (`pilotage run FILE`, and
 * `runs retry` without a server): its secrets, default executor, passed environment and kept
 * workspace. `lead` starts each description (`runs retry` says they are for the local store).
 */
export function localRunOptions(command: Command, lead = ''): Command {
  return command
    .option('--executor <name>', `${lead}default executor: local, docker, kubernetes or auto`)
    .option('--secret <NAME=value>', `${lead}a secret for this run, masked everywhere (repeatable)`, repeated, [])
    .option(
      '--pass-env <NAME>',
      `${lead}let components inherit this variable of this process's environment (a name or a glob such as AWS_*; repeatable; PILOTAGE_PASS_ENV)`,
      repeated,
      [],
    )
    .option('--keep-workspace', `${lead}keep the run workspace folder after the run`);
}
