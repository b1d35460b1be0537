import { openStore } from '../store/open-store.js';
import type { Store } from '../store/types.js';
import { EXIT, reportError } from './output.js';
import type { ApiClient } from './api-client.js';
import { configFrom } from './runtime-flags.js';
import { serverChosen } from './server-flags.js';
import { withServer, type RemoteFlags } from './with-server.js';

/**
 * Open the configured store (`--db` over PILOTAGE_DB), run `fn`, always close it. An error is
 * reported (as JSON with `json`) and sets the exit code; success leaves it 0.
 */
export async function withStore(
  flags: { db?: string; json?: boolean },
  fn: (store: Store) => Promise<void>,
): Promise<void> {
  let store: Store | undefined;
  try {
    store = await openStore({ url: configFrom({ db: flags.db }).db });
    await fn(store);
    process.exitCode ??= EXIT.ok;
  } catch (error) {
    process.exitCode = reportError(error, flags.json === true);
  } finally {
    await store?.close();
  }
}

/**
 * Run `remote` against the server when one is given (`serverGiven`: `--server`, then `--db`,
 * then PILOTAGE_SERVER), else `local` on the store; a command with no `local` needs a server.
 * Errors are reported (JSON with `--json`) and set the exit code; `remote` may return an exit
 * code of its own.
 */
export async function onServerOrStore(
  flags: RemoteFlags & { readonly db?: string },
  how: { remote: (client: ApiClient) => Promise<number | void>; local?: (store: Store) => Promise<void> },
): Promise<void> {
  const remote = how.local === undefined || serverChosen(flags);
  if (remote === undefined) return;
  return remote ? withServer(flags, how.remote) : withStore(flags, how.local!);
}
