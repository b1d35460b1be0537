#!/usr/bin/env node
import { Command } from 'commander';
import { registerApprove } from './commands/approve.js';
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
import { EXIT } from './output.js';

// A reader that stops early (`pilotage runs list | head`) closes stdout: end quietly, as Unix
// tools do, rather than with an EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT.ok);
});

const program = new Command()
  .name('pilotage')
  .description('Pilotage: container-native DevOps workflows (components with a five-callback contract)')
  .version('0.1.0')
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

await program.parseAsync(process.argv);
