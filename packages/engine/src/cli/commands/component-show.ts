import type { Command } from 'commander';
import { routes } from '@pilotage/api';
import { ValidationError } from '../../domain/errors.js';
import { print } from '../output.js';
import { serverOptions, withServer, type RemoteFlags } from '../with-server.js';
import { componentLine } from './component-list.js';

/** `name` or `name@version`, split. */
export function splitComponentRef(ref: string): { name: string; version?: string } {
  const at = ref.lastIndexOf('@');
  if (at === 0 || at === ref.length - 1) throw new ValidationError(`expected NAME or NAME@VERSION, got "${ref}"`);
  return at === -1 ? { name: ref } : { name: ref.slice(0, at), version: ref.slice(at + 1) };
}

/**
 * `pilotage component show NAME[@VERSION] [--source]`: one version (default the newest) with the
 * list of all versions; `--source` prints the registered text alone.
 */
export function registerComponentShow(component: Command): void {
  serverOptions(
    component
      .command('show')
      .description('show a registered component version (default the newest) and its versions')
      .argument('<ref>', 'NAME or NAME@VERSION')
      .option('--source', 'print only the text it was registered from'),
    'read',
  ).action((ref: string, flags: RemoteFlags & { source?: boolean }) =>
    withServer(flags, async (client) => {
      const { name, version } = splitComponentRef(ref);
      const { versions } = await client.call(routes.componentVersions, { params: { name } });
      const chosen = version ?? versions[0]?.version ?? '';
      const detail = await client.call(routes.getComponent, { params: { name, version: chosen } });
      if (flags.json) return print({ component: detail, versions });
      if (flags.source) {
        process.stdout.write(detail.source.endsWith('\n') ? detail.source : `${detail.source}\n`);
        return;
      }
      print(componentLine(detail));
      const spec = detail.spec as Record<string, unknown>;
      if (detail.image) print(`  image:      ${detail.image}`);
      if (Array.isArray(spec.command)) print(`  command:    ${spec.command.join(' ')}`);
      if (typeof spec.timeout === 'string' || typeof spec.timeout === 'number') print(`  timeout:    ${spec.timeout}`);
      if (detail.dir) print(`  folder:     ${detail.dir}`);
      print(
        `  registered: ${new Date(detail.createdAt).toISOString()}${detail.createdBy ? ` by ${detail.createdBy}` : ''}`,
      );
      print(
        `  versions:   ${versions.map((v) => (v.deprecated ? `${v.version} (deprecated)` : v.version)).join(', ')}`,
      );
    }),
  );
}
