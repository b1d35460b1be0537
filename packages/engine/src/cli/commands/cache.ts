import type { Command } from 'commander';
import { createCacheFolder } from '../../cache/cache-folder.js';
import { ActionCache } from '../../engine/action-cache.js';
import type { CacheEntryRecord, CacheFilter, Store } from '../../store/types.js';
import { print } from '../output.js';
import { configFrom } from '../runtime-flags.js';
import { connectionOptions, serverGiven, withServer, type RemoteFlags } from '../with-server.js';
import { withStore } from '../with-store.js';

interface Flags extends RemoteFlags {
  db?: string;
  workflow?: string;
  action?: string;
  limit?: string;
}

/**
 * `pilotage cache list|clear`: the action result cache. On the local store (`--db`, with the
 * cache folder of PILOTAGE_CACHE_DIR) or, with `--server`, a server's (`GET|DELETE /v1/cache`).
 */
export function registerCache(program: Command): void {
  const cache = program.command('cache').description('the action result cache (cache: on actions)');
  const common = (command: Command, scope: 'read' | 'admin'): Command =>
    connectionOptions(command, scope, 'a Pilotage server (PILOTAGE_SERVER); default the local store')
      .option('--db <path|url>', 'local store (PILOTAGE_DB)')
      .option('--workflow <name>', 'only entries of this workflow')
      .option('--action <name>', 'only entries of this action')
      .option('--json', 'JSON output');

  common(cache.command('list').description('cache entries, most recently used first'), 'read')
    .option('--limit <n>', 'how many', '100')
    .action(async (flags: Flags) => {
      const limit = flags.limit ?? '100';
      if (serverGiven(flags)) {
        await withServer(flags, async (client) => {
          const path = `/v1/cache${query(flags, { limit })}`;
          show((await client.request<{ entries: CacheEntryRecord[] }>('GET', path)).entries, flags);
        });
        return;
      }
      await withStore(flags, async (store) =>
        show(await localCache(store, flags).list(filter(flags), Number(limit)), flags),
      );
    });

  common(
    cache.command('clear').description('remove cache entries (all, or of one workflow or action) and their files'),
    'admin',
  ).action(async (flags: Flags) => {
    if (serverGiven(flags)) {
      await withServer(flags, async (client) => {
        showRemoved((await client.request<{ removed: number }>('DELETE', `/v1/cache${query(flags)}`)).removed, flags);
      });
      return;
    }
    await withStore(flags, async (store) => showRemoved(await localCache(store, flags).clear(filter(flags)), flags));
  });
}

/** The cache of the local store, with the configured cache folder and limits. */
function localCache(store: Store, flags: Flags): ActionCache {
  const config = configFrom({ db: flags.db });
  return new ActionCache(
    store.cache,
    createCacheFolder(config.cacheDir),
    { maxBytes: config.cacheMaxBytes, maxAgeMs: config.cacheMaxAgeMs },
    Date.now,
    (message) => process.stderr.write(`warning: ${message}\n`),
  );
}

function filter(flags: Flags): CacheFilter {
  return {
    ...(flags.workflow === undefined ? {} : { workflow: flags.workflow }),
    ...(flags.action === undefined ? {} : { action: flags.action }),
  };
}

function query(flags: Flags, extra: Record<string, string> = {}): string {
  const text = new URLSearchParams({ ...filter(flags), ...extra }).toString();
  return text === '' ? '' : `?${text}`;
}

function show(entries: readonly CacheEntryRecord[], flags: Flags): void {
  if (flags.json) return print({ entries });
  if (entries.length === 0) return print('no cache entries');
  for (const entry of entries) {
    const used = new Date(entry.lastUsedAt).toISOString().replace('T', ' ').slice(0, 19);
    const files = entry.paths.length > 0 ? `  ${entry.paths.join(', ')} (${entry.sizeBytes} bytes)` : '';
    print(
      `${entry.key.slice(0, 12)}  ${entry.workflow}/${entry.action}  used ${used}  from run ${entry.runId}${files}`,
    );
  }
}

function showRemoved(removed: number, flags: Flags): void {
  if (flags.json) return print({ removed });
  print(`removed ${removed} cache ${removed === 1 ? 'entry' : 'entries'}`);
}
