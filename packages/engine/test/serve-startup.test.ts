import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freeLoopbackPort } from '../src/executor/shared/free-port.js';
import { CLI_BUILT, ROOT } from './support/cli.js';

test(
  'requests arriving while `pilotage serve` starts get 503 or an answer, never a crash',
  { timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-startup-'));
    const port = await freeLoopbackPort();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PILOTAGE_')));
    const child = spawn(process.execPath, [CLI_BUILT, 'serve', '--port', String(port)], {
      cwd: ROOT,
      env: { ...base, PILOTAGE_DATA_DIR: dir, PILOTAGE_DB: join(dir, 'p.db'), PILOTAGE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let exited: number | null | undefined;
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exited = code))));
    try {
      const statuses = new Set<number>();
      const deadline = Date.now() + 45_000;
      let ready = false;
      while (!ready && Date.now() < deadline && exited === undefined) {
        // several requests at once, so some land in every phase of the start
        const answers = await Promise.all(
          Array.from({ length: 4 }, () =>
            fetch(`http://127.0.0.1:${port}/readyz`).then(
              (res) => res.status,
              () => 0,
            ),
          ),
        );
        for (const status of answers) statuses.add(status);
        ready = answers.includes(200);
      }
      assert.equal(exited, undefined, `the server died while starting: ${stderr}`);
      assert.ok(ready, `never ready: ${[...statuses].join(', ')} ${stderr}`);
      for (const status of statuses) assert.ok([0, 200, 503].includes(status), `unexpected status ${status}`);
      child.kill('SIGTERM');
      assert.equal(await exit, 0, stderr);
      // at log level warn a clean start and stop print nothing: no deprecation or other warning
      // of Node or a library (Fastify 5.12 warned of its `disableRequestLogging` option)
      assert.doesNotMatch(stderr, /warning|deprecat/i, stderr);
    } finally {
      if (exited === undefined) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  },
);
