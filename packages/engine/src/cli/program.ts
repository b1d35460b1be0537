import { Command } from 'commander';
import { registerApprove } from './commands/approve.js';
import { registerCompletion } from './commands/completion.js';
import { registerComponent } from './commands/component.js';
import { registerEvents } from './commands/events.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSchema } from './commands/schema.js';
import { registerSecret } from './commands/secret.js';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';
import { registerValidate } from './commands/validate.js';
import { registerWorkflow } from './commands/workflow.js';
import { addHelpExamples } from './help-examples.js';

/** The CLI's version, as `pilotage --version` prints it. */
export const CLI_VERSION = '0.1.0';

/**
 * Every command of `pilotage`, with its options and help examples; nothing is parsed or run.
 * main.ts parses the process's arguments with it; completion walks it for names and flags.
 */
export function buildProgram(): Command {
  const program = new Command()
    .name('pilotage')
    .description('Pilotage: container-native DevOps workflows (components with a five-callback contract)')
    .version(CLI_VERSION)
    // read by terminal.ts wherever it stands; listed here for the help
    .option('--no-color', 'no colours in the output (also NO_COLOR=1; colour is only ever used on a terminal)')
    // program options only before the command, so `workflow show NAME --version N` is the command's
    .enablePositionalOptions()
    .showHelpAfterError();

  registerRun(program);
  registerValidate(program);
  registerSchema(program);
  registerComponent(program);
  registerRuns(program);
  registerEvents(program);
  registerServe(program);
  registerToken(program);
  registerWorkflow(program);
  registerSecret(program);
  registerApprove(program);
  registerCompletion(program);
  const missing = addHelpExamples(program);
  if (missing.length > 0) throw new Error(`commands without help examples: ${missing.join(', ')}`);
  return program;
}
