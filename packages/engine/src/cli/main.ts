#!/usr/bin/env node
import { EXIT } from './output.js';
import { buildProgram, invokedCommand } from './program.js';

// `pilotage serve` runs with its own V8 flags unless Node's flags name a pool size
// (serve-v8-flags.ts): decided first, before anything is set up, since it starts the process again
if (invokedCommand(process.argv.slice(2)) === 'serve') {
  const { execWithServeV8Flags } = await import('./serve-v8-flags.js');
  await execWithServeV8Flags((message) => process.stderr.write(`pilotage: ${message}\n`));
}

// A reader that stops early (`pilotage runs list | head`) closes stdout: end quietly, as Unix
// tools do, rather than with an EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT.ok);
});

// `--no-color` is honoured after the command too (`pilotage run x.yaml --no-color`): terminal.ts
// reads it from argv; commander, whose commands do not declare it, must not see it there
const dashDash = process.argv.indexOf('--');
const argv = process.argv.filter((arg, i) => arg !== '--no-color' || (dashDash !== -1 && i > dashDash));
// only the module of the command being run is loaded (cli/command-list.ts)
const program = await buildProgram(invokedCommand(argv.slice(2)));
await program.parseAsync(argv);
