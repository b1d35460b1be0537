import type { Command } from 'commander';
import { formatIssue } from '../../domain/issue.js';
import { validateFiles } from '../../plan-files/load.js';
import { EXIT } from '../output.js';
import { look } from '../terminal.js';

/** `pilotage validate FILE...`: check workflow and component files; exit 2 when any is invalid. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check workflow and component files (every problem with file, line, column and field)')
    .argument('<files...>', 'workflow.yaml or component.yaml files')
    .option('--json', 'print the problems as JSON')
    .action((files: string[], flags: { json?: boolean }) => {
      const issues = validateFiles(files);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ok: issues.length === 0, issues })}\n`);
      } else {
        for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`);
        const bad = new Set(issues.map((i) => i.file));
        for (const file of files) if (!bad.has(file)) process.stdout.write(`${look().glyphs.check} ${file}\n`);
        if (issues.length > 0)
          process.stderr.write(
            `${issues.length} problem${issues.length === 1 ? '' : 's'} in ${bad.size} file${bad.size === 1 ? '' : 's'}\n`,
          );
      }
      process.exitCode = issues.length === 0 ? EXIT.ok : EXIT.usage;
    });
}
