// A real `pilotage serve` (the built CLI) in a child process, for the benches that measure it
// from outside: bench/server.mjs (callbacks, start latency) and bench/memory-serve.mjs (RSS).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { freePort } from './common.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The built CLI (BENCH_CLI: another build of it, for an A/B). */
export const cli = process.env['BENCH_CLI'] ?? join(root, 'packages/engine/dist/bundle/pilotage.js');

/**
 * Start `pilotage serve` on a free loopback port with its store and data in `folder` (SQLite,
 * local executor, log level warn), `env` over that; `nodeArgs` go to node before the CLI, and
 * `command(file, argv)` may wrap the command line (taskset). Resolves once /readyz answers 200,
 * with the child, its URL, its admin token and its output so far.
 */
export async function startServe({ folder, env = {}, nodeArgs = [], command = (file, argv) => [file, argv] }) {
  const port = await freePort();
  const [file, argv] = command(process.execPath, [...nodeArgs, cli, 'serve', '--port', String(port)]);
  const child = spawn(file, argv, {
    cwd: root,
    env: {
      ...process.env,
      PILOTAGE_DB: join(folder, 'pilotage.db'),
      PILOTAGE_DATA_DIR: folder,
      PILOTAGE_EXECUTOR: 'local',
      PILOTAGE_LOG_LEVEL: 'warn',
      PILOTAGE_SHUTDOWN_GRACE: '10s',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (c) => (text += c.toString()));
  child.stderr.on('data', (c) => (text += c.toString()));
  const output = () => text;
  const url = `http://127.0.0.1:${port}`;
  // a request that arrives before the app is attached to the listening port gets no answer: time out
  const ready = () => fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
  try {
    await until(async () => (await ready())?.ok === true, 30_000, 'the server');
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${error.message}; its output:\n${output()}`);
  }
  const token = (await readFile(join(folder, 'admin-token'), 'utf8')).trim();
  return { child, url, token, output };
}

/** `api(method, path, body?, contentType?)`: the parsed JSON answer; throws on a non-2xx. */
export function apiClient(base, token) {
  return async (method, path, body, contentType = 'application/json') => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  };
}

/** Resolves once `check()` resolves truthy (polled every 5 ms); rejects after `timeoutMs`. */
export async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** SIGTERM, resolved at its exit (at once if it has exited). */
export function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}
