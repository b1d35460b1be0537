import type { Command } from 'commander';
import { formatIssue, type Issue } from '../../domain/issue.js';
import { checkFiles } from '../../plan-files/load.js';
import { EXIT } from '../output.js';

const EXECUTORS = ['local', 'docker', 'kubernetes'];
import { look } from '../terminal.js';

// `file:line:col: path: warning: message`: the place first, as for problems, so editors link it
function formatWarning(warning: Issue): string {
  return formatIssue({ ...warning, message: `warning: ${warning.message}` });
}

/** `pilotage validate FILE...`: check workflow and component files; exit 2 when any is invalid. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check workflow and component files (every problem with file, line, column and field)')
    .argument('<files...>', 'workflow.yaml or component.yaml files')
    .option('--json', 'print the problems as JSON')
    .option(
      '--executor <name>',
      'also warn about the component and action fields this executor cannot honour (local, docker, kubernetes); an executor: in the file wins',
    )
    .action((files: string[], flags: { json?: boolean; executor?: string }) => {
      if (flags.executor !== undefined && !EXECUTORS.includes(flags.executor)) {
        process.stderr.write(`--executor: expected one of ${EXECUTORS.join(', ')}, got "${flags.executor}"\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      const { issues, warnings } = checkFiles(files, flags.executor === undefined ? {} : { executor: flags.executor });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ok: issues.length === 0, issues, warnings })}\n`);
      } else {
        for (const warning of warnings) process.stderr.write(`${formatWarning(warning)}\n`);
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
