import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SERVE_V8_FLAGS } from '../src/cli/serve-v8-flags.js';
import { CLI_BUILT } from './support/cli.js';
import { startServe, stopServe } from './support/serve-process.js';

/**
 * `pilotage serve` runs itself again with its V8 flags (a one-thread pool, GC on the main thread:
 * src/cli/serve-v8-flags.ts) unless Node's flags name a pool size. Read from /proc: the
 * process's own command line and its threads.
 */

const onLinux = process.platform === 'linux';

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

const threads = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;

async function serveWith(env: Record<string, string>): Promise<{ args: string[]; threads: number; answers: boolean }> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-v8-pool-'));
  try {
    const server = await startServe(dir, env);
    try {
      const answers = (await server.api('GET', '/v1/workflows')).ok;
      return { args: commandLine(server.child.pid!), threads: threads(server.child.pid!), answers };
    } finally {
      await stopServe(server);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test(
  'serve runs in place with --v8-pool-size=1 --single-threaded-gc, unless NODE_OPTIONS names a pool size',
  { skip: !onLinux, timeout: 60_000 },
  async () => {
    // startServe reads "pilotage serving on" from the stdout it gave: the re-run process kept it
    const own = await serveWith({});
    assert.ok(own.answers);
    assert.deepEqual(SERVE_V8_FLAGS, ['--v8-pool-size=1', '--single-threaded-gc']);
    for (const flag of SERVE_V8_FLAGS) {
      assert.ok(own.args.includes(flag), own.args.join(' '));
      assert.ok(own.args.indexOf(flag) < own.args.indexOf(CLI_BUILT), 'a Node flag, before the script');
    }

    const named = await serveWith({ NODE_OPTIONS: '--v8-pool-size=4' });
    assert.ok(named.answers);
    assert.deepEqual(named.args.slice(1, 2), [CLI_BUILT], 'run as started, with no flag added');
    // Node's pool is that many threads of the process: three fewer with one than with four
    assert.ok(named.threads - own.threads >= 3, `${named.threads} threads with a pool of 4, ${own.threads} with 1`);
  },
);
