import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI_BUILT, ROOT } from './cli.js';

/** A `pilotage serve` child process (the built CLI, as users run it). */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** the admin token the first start wrote */
  readonly token: string;
  /** everything it wrote so far, stdout and stderr interleaved */
  output(): string;
  /** resolves with the exit code (or the signal's name) */
  readonly exited: Promise<number | string>;
  /** a call to its API with the admin token; JSON bodies are sent as JSON, strings as YAML */
  api(method: string, path: string, body?: unknown): Promise<Response>;
}

/**
 * Start `pilotage serve --port 0` on the store and data dir `dir` (local executor, 1 s kill
 * grace), with `env` over this process's environment minus its PILOTAGE_* settings, and wait
 * until it listens. Its admin token is read from `dir/admin-token` unless `options.token` gives
 * one (a replica joining a store that already has tokens writes none); `options.script` runs
 * another entry point than the built CLI with the same arguments (bench/replicas-fake-serve.mjs). Rejects with its output when it exits first or takes over 30 s.
 */
export async function startServe(
  dir: string,
  env: Record<string, string> = {},
  args: string[] = [],
  options: { readonly token?: string; readonly script?: string } = {},
): Promise<ServeProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PILOTAGE_')));
  const child = spawn(process.execPath, [options.script ?? CLI_BUILT, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: {
      ...inherited,
      PILOTAGE_DB: join(dir, 'pilotage.db'),
      PILOTAGE_DATA_DIR: dir,
      PILOTAGE_EXECUTOR: 'local',
      PILOTAGE_KILL_GRACE: '1s',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start:\n${text}`));
    }, 30_000);
    const look = (): void => {
      const match = /pilotage serving on (http:\/\/[\d.:]+)/.exec(text);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout.off('data', look);
      resolve(match[1]);
    };
    child.stdout.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening:\n${text}`));
    });
  });
  // a replica joining a store that has tokens writes none: its caller gives the first one's
  const token = options.token ?? (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  return {
    child,
    url,
    token,
    output: () => text,
    exited,
    api(method, path, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined)
        headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
      return fetch(`${url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
  };
}

/** Stop `server` (SIGTERM, SIGKILL after 10 s) unless it already exited; resolves when it has. */
export async function stopServe(server: ServeProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    await server.exited;
    clearTimeout(timer);
  }
}

/** Poll the run until it has ended; its `run` (of GET /v1/runs/:id). Throws after `timeoutMs`. */
export async function waitRunEnded(server: ServeProcess, runId: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { run } = (await (await server.api('GET', `/v1/runs/${runId}`)).json()) as { run: { state: string } };
    if (['succeeded', 'failed', 'errored', 'cancelled'].includes(run.state)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.state} after ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
