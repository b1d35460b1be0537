import { routes } from '@pilotage/api';
import type { Command } from 'commander';
import { ValidationError } from '../../domain/errors.js';
import { print } from '../output.js';
import { serverOptions, withServer, type RemoteFlags } from '../with-server.js';
import { splitComponentRef } from './component-show.js';

/** `pilotage component deprecate NAME@VERSION [--message M]`: ranges skip it from now on. */
export function registerComponentDeprecate(component: Command): void {
  serverOptions(
    component
      .command('deprecate')
      .description('deprecate a component version: ranges (^1) skip it, exact references still resolve')
      .argument('<ref>', 'NAME@VERSION')
      .option('-m, --message <text>', 'why, and what to use instead'),
    'admin',
  ).action((ref: string, flags: RemoteFlags & { message?: string }) =>
    withServer(flags, async (client) => {
      const { name, version } = splitComponentRef(ref);
      if (version === undefined) throw new ValidationError(`name the version to deprecate: ${name}@1.2.0`);
      const answer = await client.call(routes.deprecateComponent, {
        params: { name, version },
        body: flags.message === undefined ? {} : { message: flags.message },
      });
      const why = answer.deprecationMessage ? `: ${answer.deprecationMessage}` : '';
      print(flags.json ? answer : `deprecated ${answer.name}@${answer.version}${why}`);
    }),
  );
}
