#!/usr/bin/env node
import { EXIT } from './output.js';
import { buildProgram } from './program.js';

// A reader that stops early (`pilotage runs list | head`) closes stdout: end quietly, as Unix
// tools do, rather than with an EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT.ok);
});

// `--no-color` is honoured after the command too (`pilotage run x.yaml --no-color`): terminal.ts
// reads it from argv; commander, whose commands do not declare it, must not see it there
const dashDash = process.argv.indexOf('--');
await buildProgram().parseAsync(
  process.argv.filter((arg, i) => arg !== '--no-color' || (dashDash !== -1 && i > dashDash)),
);
