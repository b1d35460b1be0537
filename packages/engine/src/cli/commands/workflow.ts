import { readSourceFile } from '../../plan-files/load.js';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { routes } from '@pilotage/api';
import { ValidationError } from '../../domain/errors.js';
import { EXIT, print, reportError } from '../output.js';
import { asPlanError, serverOptions, withServer, type RemoteFlags } from '../with-server.js';

function when(ms: number): string {
  return new Date(ms).toISOString();
}

function versionNumber(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new ValidationError(`${what} must be a version number (1, 2, …), got "${text}"`);
  return n;
}

/**
 * `pilotage workflow apply|list|show|diff|enable|disable`: the workflows stored on a server.
 * `apply` sends each file with its path (named in issues); the server compiles it against its
 * component registry and stores a new version unless the text equals the latest one.
 */
export function registerWorkflow(program: Command): void {
  const workflow = program.command('workflow').description('workflows stored on a server');

  serverOptions(
    workflow
      .command('apply')
      .description('store a new version of each workflow file (unchanged text: no new version)')
      .argument('<files...>', 'workflow files'),
    'admin',
  ).action((files: string[], flags: RemoteFlags) =>
    withServer(flags, async (client) => {
      let worst: number = EXIT.ok;
      for (const file of files) {
        try {
          const shown = relative(process.cwd(), resolve(file)) || file;
          let source: string;
          try {
            source = readSourceFile(file);
          } catch (error) {
            throw new ValidationError(`${shown}: cannot read the file: ${(error as Error).message}`);
          }
          const applied = await client.call(routes.applyWorkflow, { body: { source, file: shown } });
          for (const warning of applied.warnings) process.stderr.write(`warning: ${shown}: ${warning}\n`);
          if (flags.json) print({ file: shown, ...applied });
          else {
            const what = applied.created
              ? `applied ${applied.name} version ${applied.version}`
              : `unchanged ${applied.name} (version ${applied.version})`;
            print(`${what}${applied.enabled ? '' : ' — disabled: pilotage workflow enable ' + applied.name}`);
          }
        } catch (error) {
          worst = Math.max(worst, reportError(asPlanError(error), flags.json === true));
        }
      }
      process.exitCode = worst;
    }),
  );

  serverOptions(workflow.command('list').description('list the stored workflows'), 'read').action(
    (flags: RemoteFlags) =>
      withServer(flags, async (client) => {
        const list = await client.call(routes.listWorkflows, {});
        if (flags.json) return print({ workflows: list });
        if (list.length === 0) return print('no workflows; apply one with pilotage workflow apply FILE');
        for (const w of list) {
          const triggers = w.triggers.length > 0 ? w.triggers.join('; ') : 'manual';
          print(`${w.name}  v${w.latestVersion}  ${w.enabled ? 'enabled' : 'disabled'}  ${triggers}`);
        }
      }),
  );

  serverOptions(
    workflow
      .command('show')
      .description('show a workflow and its versions, or one version (--version), or its source (--source)')
      .argument('<name>')
      .option('--version <n>', 'one version (default the latest)')
      .option('--source', 'print only the source text (of --version, default the latest)'),
    'read',
  ).action((name: string, flags: RemoteFlags & { version?: string; source?: boolean }) =>
    withServer(flags, async (client) => {
      const info = await client.call(routes.getWorkflow, { params: { name } });
      if (flags.version === undefined && !flags.source) {
        if (flags.json) return print({ workflow: info });
        print(`${info.name}  ${info.enabled ? 'enabled' : 'disabled'}  latest version ${info.latestVersion}`);
        if (info.description) print(`  ${info.description}`);
        print(`  triggers: ${info.triggers.length > 0 ? info.triggers.join('; ') : 'manual'}`);
        for (const v of info.versions) {
          print(
            `  v${v.version}  ${when(v.createdAt)}${v.createdBy ? `  by ${v.createdBy}` : ''}  sha256 ${v.digest.slice(0, 12)}`,
          );
        }
        return;
      }
      const n = flags.version === undefined ? info.latestVersion : versionNumber(flags.version, '--version');
      const version = await client.call(routes.getWorkflowVersion, { params: { name, version: n } });
      if (flags.json) return print({ version });
      if (flags.source) {
        process.stdout.write(version.source.endsWith('\n') ? version.source : `${version.source}\n`);
        return;
      }
      print(
        `${name} v${version.version}  ${when(version.createdAt)}${version.createdBy ? `  by ${version.createdBy}` : ''}`,
      );
      print(`  sha256 ${version.digest}`);
      print(version.source.trimEnd());
    }),
  );

  serverOptions(
    workflow
      .command('diff')
      .description('unified diff of the sources of two versions (default: the latest against the one before)')
      .argument('<name>')
      .argument('[from]', 'older version')
      .argument('[to]', 'newer version'),
    'read',
  ).action((name: string, from: string | undefined, to: string | undefined, flags: RemoteFlags) =>
    withServer(flags, async (client) => {
      const query = {
        ...(from === undefined ? {} : { from: versionNumber(from, 'FROM') }),
        ...(to === undefined ? {} : { to: versionNumber(to, 'TO') }),
      };
      const answer = await client.call(routes.workflowDiff, { params: { name }, query });
      if (flags.json) return print(answer);
      process.stdout.write(answer.diff);
    }),
  );

  for (const verb of ['enable', 'disable'] as const) {
    serverOptions(
      workflow
        .command(verb)
        .description(verb === 'enable' ? 'let triggers and requests start runs again' : 'refuse new runs of a workflow')
        .argument('<name>'),
      'admin',
    ).action((name: string, flags: RemoteFlags) =>
      withServer(flags, async (client) => {
        const answer = await client.call(verb === 'enable' ? routes.enableWorkflow : routes.disableWorkflow, {
          params: { name },
        });
        print(flags.json ? answer : `${answer.name} ${answer.enabled ? 'enabled' : 'disabled'}`);
      }),
    );
  }
}
