import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config, type Overrides } from '../../src/config/config.js';
import type { Scope } from '../../src/domain/scopes.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/serve.js';

/** A real `pilotage serve` on a free port, a temp SQLite file and captured log lines. */
export interface ApiHarness {
  readonly server: RunningServer;
  readonly config: Config;
  readonly dir: string;
  /** an admin token */
  readonly admin: string;
  /** every log line the server wrote so far (JSON text) */
  logText(): string;
  /** a new token with these scopes */
  token(...scopes: Scope[]): Promise<string>;
  /** `app.inject` with an optional bearer token and JSON body; parses a JSON answer */
  call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string>; payload?: string },
  ): Promise<{ status: number; body: any; raw: LightMyRequestResponse }>;
  close(): Promise<void>;
}

/**
 * Start a server for a test. `config` overrides the test defaults (SQLite file in a temp dir,
 * port 0, local executor, short grace periods); `options` go to startServer.
 */
export async function createApiHarness(
  input: { config?: Overrides; env?: NodeJS.ProcessEnv; options?: ServeOptions; dir?: string } = {},
): Promise<ApiHarness> {
  const dir = input.dir ?? (await mkdtemp(join(tmpdir(), 'pilotage-api-')));
  const config = loadConfig({
    env: input.env ?? {},
    home: dir,
    flags: {
      db: join(dir, 'pilotage.db'),
      dataDir: dir,
      port: 0,
      executor: 'local',
      killGraceMs: 1000,
      stopGraceMs: 2000,
      shutdownGraceMs: 5000,
      logLevel: 'info',
      ...input.config,
    },
  });
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  const server = await startServer(config, { logStream: stream, ...input.options });
  const { token: admin } = await server.tokens.issue({ name: 'test-admin', scopes: ['admin'] });
  let closed = false;
  return {
    server,
    config,
    dir,
    admin,
    logText: () => lines.join(''),
    async token(...scopes) {
      return (await server.tokens.issue({ name: `test-${scopes.join('-')}`, scopes })).token;
    },
    async call(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token === undefined ? admin : options.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const raw = await server.app.inject({
        method,
        url,
        headers,
        ...(options.payload !== undefined
          ? { payload: options.payload }
          : options.body !== undefined
            ? { payload: options.body as object }
            : {}),
      });
      let body: unknown = raw.body;
      if ((raw.headers['content-type'] ?? '').toString().includes('json') && raw.body !== '') body = raw.json();
      return { status: raw.statusCode, body, raw };
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      if (input.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
