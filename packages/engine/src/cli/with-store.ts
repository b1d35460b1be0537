import { openStore } from '../store/open-store.js';
import type { Store } from '../store/types.js';
import { EXIT, reportError } from './output.js';
import { configFrom } from './runtime-flags.js';

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
