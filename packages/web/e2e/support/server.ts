import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A real `pilotage serve` for the end-to-end tests: its URL, its first admin token, its folder. */
export interface TestServer {
  readonly url: string;
  readonly admin: string;
  readonly dir: string;
  /** every line the server logged so far */
  readonly log: string[];
  /** Call the API with the admin token; resolves with the status and the parsed answer. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../../../engine/dist/bundle/pilotage.js', import.meta.url));

/**
 * Start `pilotage serve` (the built CLI, as a user runs it) on a free port with a fresh SQLite
 * store and data folder, the local executor, and the built UI; resolves once it serves. A task
 * run keeps at most 60 TASK_STATUS reports (PILOTAGE_TASK_MAX_STATUSES).
 */
export async function startTestServer(): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-web-e2e-'));
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--executor', 'local'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      PILOTAGE_DATA_DIR: dir,
      PILOTAGE_DB: join(dir, 'pilotage.db'),
      PILOTAGE_WORKSPACE_ROOT: join(dir, 'workspaces'),
      PILOTAGE_LOG_LEVEL: 'info',
      // small, so the task panel's paging of a capped task is quick to show
      PILOTAGE_TASK_MAX_STATUSES: '60',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log.join('\n')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${log.join('\n')}`)));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        log.push(line);
        const match = /pilotage serving on (http:\/\/[^\s"]+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    }
  });
  const admin = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  const api: TestServer['api'] = async (method, path, body, contentType = 'application/json') => {
    const response = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    url,
    admin,
    dir,
    log,
    api,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The fixture components (producer, consumer) of these tests. */
export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

/**
 * Copy the fixture components into the server's folder and register them from there, as
 * `component register` does; resolves with the folder of each (a test may drop a `fail-once`
 * file into the consumer's to make it fail).
 */
export async function registerFixtures(server: TestServer): Promise<Record<'producer' | 'consumer', string>> {
  const folders = { producer: join(server.dir, 'producer'), consumer: join(server.dir, 'consumer') };
  for (const name of ['producer', 'consumer'] as const) {
    const folder = folders[name];
    await cp(join(FIXTURES, name), folder, { recursive: true });
    const source = await readFile(join(folder, 'component.yaml'), 'utf8');
    const answer = await server.api('POST', '/v1/components', { source, file: 'component.yaml', dir: folder });
    if (answer.status !== 201) throw new Error(`cannot register ${name}: ${JSON.stringify(answer.body)}`);
  }
  return folders;
}
