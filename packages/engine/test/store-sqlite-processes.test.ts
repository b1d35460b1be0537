import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../src/store/open-store.js';

const burst = new URL('./store-suite/write-burst.ts', import.meta.url).pathname;

function writeBurst(url: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', burst, url, String(count)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`write burst exited ${code}: ${stderr}`))));
  });
}

// Two processes on one SQLite file (`pilotage serve` and a CLI): transactions wait for the write
// lock (begin immediate + busy_timeout) instead of failing with SQLITE_BUSY.
test('several processes writing one SQLite file neither fail nor duplicate run numbers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-procs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const url = join(dir, 'shared.db');
  const setup = await openStore({ url });
  await setup.close();

  await Promise.all([writeBurst(url, 60), writeBurst(url, 60), writeBurst(url, 60)]);

  const store = await openStore({ url });
  try {
    const runs = await store.runs.list({ workflow: 'shared', limit: 500 });
    assert.deepEqual(
      runs.map((r) => r.number).sort((a, b) => a - b),
      Array.from({ length: 180 }, (_, i) => i + 1),
    );
    assert.ok(runs.every((r) => r.state === 'running'));
  } finally {
    await store.close();
  }
});
