import type { Command } from 'commander';
import { routes, type ComponentInfo } from '@pilotage/api';
import { print } from '../output.js';
import { serverOptions, withServer, type RemoteFlags } from '../with-server.js';

/** A component as the API lists it. */
export type ComponentSummary = ComponentInfo;

/** One line of a component list: `name@version  description  [deprecated: why]`. */
export function componentLine(c: ComponentSummary): string {
  const deprecated = c.deprecated ? `  [deprecated${c.deprecationMessage ? `: ${c.deprecationMessage}` : ''}]` : '';
  return `${c.name}@${c.version}${c.description ? `  ${c.description}` : ''}${deprecated}`;
}

/** `pilotage component list [--query Q] [--deprecated]`: the newest version of each registered component. */
export function registerComponentList(component: Command): void {
  serverOptions(
    component
      .command('list')
      .description('list registered components (newest version of each) on a server')
      .option('-q, --query <text>', 'only those whose name or description holds this text')
      .option('--deprecated', 'include deprecated versions'),
    'read',
  ).action((flags: RemoteFlags & { query?: string; deprecated?: boolean }) =>
    withServer(flags, async (client) => {
      const list = await client.call(routes.listComponents, {
        query: { q: flags.query, ...(flags.deprecated ? { deprecated: true } : {}) },
      });
      if (flags.json) return print({ components: list });
      if (list.length === 0)
        return print(flags.query ? `no component matches "${flags.query}"` : 'no components registered');
      for (const c of list) print(componentLine(c));
    }),
  );
}
