#!/usr/bin/env node
import { Command } from 'commander';
import { registerComponent } from './commands/component.js';
import { registerEvents } from './commands/events.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSchema } from './commands/schema.js';
import { registerValidate } from './commands/validate.js';

const program = new Command()
  .name('pilotage')
  .description('Pilotage: container-native DevOps workflows (components with a five-callback contract)')
  .version('0.1.0')
  .showHelpAfterError();

registerRun(program);
registerValidate(program);
registerSchema(program);
registerComponent(program);
registerRuns(program);
registerEvents(program);

await program.parseAsync(process.argv);
