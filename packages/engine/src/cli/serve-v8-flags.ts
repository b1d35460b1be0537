import { getSystemErrorName } from 'node:util';

/** The Node flag that sizes V8's pool of background threads (GC, compilation). */
const V8_POOL_FLAG = '--v8-pool-size';

/**
 * The V8 flags `pilotage serve` runs with unless Node's flags name a pool size: one background
 * thread, and garbage collection on the main thread alone (incremental marking in steps between
 * tasks, no concurrent marking or sweeping, no parallel scavenges).
 */
export const SERVE_V8_FLAGS: readonly string[] = [`${V8_POOL_FLAG}=1`, '--single-threaded-gc'];

/** Whether Node's flags for this process (its command line or NODE_OPTIONS) name a V8 pool size. */
export function namesV8Pool(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const names = (flag: string): boolean => flag === V8_POOL_FLAG || flag.startsWith(`${V8_POOL_FLAG}=`);
  return execArgv.some(names) || (nodeOptions ?? '').split(/\s+/).some(names);
}

/**
 * The command line that runs this process again with `flags`: Node's own flags kept (`--inspect`,
 * `--import`…), `flags` after them, then the script and its arguments.
 */
export function withNodeFlags(
  argv: readonly string[],
  execArgv: readonly string[],
  flags: readonly string[],
): string[] {
  return [argv[0] ?? process.execPath, ...execArgv, ...flags, ...argv.slice(1)];
}

/**
 * Run this `pilotage serve` process again, in place (execve: the same pid, the same standard
 * streams), with SERVE_V8_FLAGS, unless Node's flags already name a V8 pool size (the way to keep
 * Node's defaults: `NODE_OPTIONS=--v8-pool-size=4`). V8 reads these flags only when a process
 * starts (set later, `--single-threaded-gc` crashes V8), and NODE_OPTIONS refuses
 * `--single-threaded-gc`: hence the re-exec, ~70 ms once at start.
 *
 * Why (docs/operations.md, "Sizing"; bench/README.md, "Session 10"): a server's heap is small and
 * its event loop one thread, so Node's four background threads buy it little, and on a machine
 * where busy processes outnumber cores (replicas beside PostgreSQL; a container whose CPU limit is
 * below the machine's) their GC work competes with the work itself and costs more CPU in all than
 * the same collection done on the main thread. Three replicas on two cores spent 3.7–4.0 ms of
 * replica CPU per fake run with Node's defaults, 3.0–3.4 ms with these flags.
 *
 * Returns when nothing was done: the flag is there (this process is the re-run one, or the
 * operator chose), the native addon is not built (no C compiler: serve then runs with Node's
 * defaults), or execve failed (`onFailure` says why).
 */
export async function execWithServeV8Flags(onFailure: (message: string) => void): Promise<void> {
  if (namesV8Pool(process.execArgv, process.env['NODE_OPTIONS'])) return;
  const { nativeSpawnAddon } = await import('../executor/local/native-spawn.js');
  const addon = nativeSpawnAddon();
  if (addon === undefined) return;
  const env = Object.entries(process.env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  const errno = addon.exec(process.execPath, withNodeFlags(process.argv, process.execArgv, SERVE_V8_FLAGS), env);
  onFailure(
    `could not start again with ${SERVE_V8_FLAGS.join(' ')} (${getSystemErrorName(-errno)}); going on with Node's defaults`,
  );
}
