import type { Command } from 'commander';
import type { Static } from '@sinclair/typebox';
import type { ComponentInfo } from '../../api/plugins/components.js';
import { print } from '../output.js';
import { serverOptions, withServer, type RemoteFlags } from '../with-server.js';

/** A component as the API lists it. */
export type ComponentSummary = Static<typeof ComponentInfo>;

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
      const params = new URLSearchParams();
      if (flags.query !== undefined) params.set('q', flags.query);
      if (flags.deprecated) params.set('deprecated', 'true');
      const query = params.size > 0 ? `?${params.toString()}` : '';
      const list = await client.request<ComponentSummary[]>('GET', `/v1/components${query}`);
      if (flags.json) return print({ components: list });
      if (list.length === 0)
        return print(flags.query ? `no component matches "${flags.query}"` : 'no components registered');
      for (const c of list) print(componentLine(c));
    }),
  );
}
