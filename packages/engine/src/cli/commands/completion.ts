import type { Command } from 'commander';
import { ValidationError } from '../../domain/errors.js';
import { complete } from '../completion/complete.js';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from '../completion/scripts.js';
import { completionSources } from '../completion/sources.js';
import { EXIT, reportError } from '../output.js';
import { buildProgram, invokedCommand } from '../program.js';
import { configFrom } from '../runtime-flags.js';

/**
 * `pilotage completion bash|zsh|fish`: print the shell's completion script. The hidden
 * `pilotage __complete WORD…` is what the scripts call on each TAB (completion/scripts.ts).
 */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script (commands, flags, workflow and component names, run ids)')
    .argument('<shell>', COMPLETION_SHELLS.join(', '))
    .action((shell: string) => {
      if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
        process.exitCode = reportError(
          new ValidationError(`completion: unknown shell "${shell}"; use ${COMPLETION_SHELLS.join(', ')}`),
          false,
        );
        return;
      }
      process.stdout.write(completionScript(shell as CompletionShell));
    });

  program
    .command('__complete', { hidden: true })
    .description('candidates for the word under the cursor (called by the completion scripts)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[words...]')
    .action(async () => {
      // the words as typed, not as commander would parse them: they are another command's
      const at = process.argv.indexOf('__complete');
      const words = process.argv.slice(at + 1);
      let configured: string | undefined;
      try {
        configured = configFrom({}).server;
      } catch {
        // a broken config file: complete without a configured server
      }
      const typed = words.length === 0 ? [''] : words;
      // the tree with the command being typed registered for real (its flags, its subcommands)
      const tree = await buildProgram(invokedCommand(typed.slice(0, -1)));
      const completion = await complete(tree, typed, completionSources, configured);
      const lines =
        completion.kind === 'values'
          ? [
              ':values',
              ...completion.values.map((c) => (c.description ? `${c.value}\t${oneLine(c.description)}` : c.value)),
            ]
          : completion.kind === 'files'
            ? [`:files ${completion.extensions.join(',')}`.trimEnd()]
            : [':dirs'];
      process.stdout.write(`${lines.join('\n')}\n`);
      // a server that does not answer must not keep a TAB waiting past the sources' own timeout
      process.exit(EXIT.ok);
    });
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
