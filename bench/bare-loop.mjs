import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * Run `n` copies of one process with nothing but node:child_process, the limit the engine is
 * measured against. Each process gets `env`, runs in `cwd`, has stdin closed and stdout/stderr
 * piped and read to the end (as the local executor does), and counts as done at its 'close'.
 * Sequential: spawn, wait, next. Parallel: spawn all, wait for all. Resolves with the wall time
 * in ms; rejects if any process fails to start or exits non-zero.
 * @param {{ file: string, args?: readonly string[], env: NodeJS.ProcessEnv, cwd: string, n: number, parallel: boolean }} job
 * @returns {Promise<number>}
 */
export async function timeBareLoop({ file, args = [], env, cwd, n, parallel }) {
  const once = () => runOnce(file, args, env, cwd);
  const begin = performance.now();
  if (parallel) {
    await Promise.all(Array.from({ length: n }, once));
  } else {
    for (let i = 0; i < n; i++) await once();
  }
  return performance.now() - begin;
}

/** @returns {Promise<void>} */
function runOnce(file, args, env, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${file} ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}
