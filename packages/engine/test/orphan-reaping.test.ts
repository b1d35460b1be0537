import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_BUILT } from './support/cli.js';
import { startServe, stopServe, waitRunEnded, type ServeProcess } from './support/serve-process.js';

/**
 * Issue 9, item 3: `kill -9` of `pilotage serve` while a silent component runs leaves that
 * component running, an orphan. On restart the engine must kill it before the action's retry
 * starts: two attempts of one action never run at the same time. The component appends to a
 * ledger while it lives, so an overlap shows as a line of attempt 1 after the first line of
 * attempt 2 (order in the file, not timing).
 */
function silentWorkflow(dir: string): string {
  const ledger = join(dir, 'ledger');
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: silent
stages:
  - name: s
    actions:
      - name: quiet
        retries: { limit: 1, backoff: 100ms }
        run: |
          echo "start $CO_ATTEMPT" >> '${ledger}'
          touch '${dir}/started-'"$CO_ATTEMPT"
          sleep 1000 &
          while [ ! -e '${dir}/release' ]; do echo "alive $CO_ATTEMPT" >> '${ledger}'; sleep 0.05; done
          echo "end $CO_ATTEMPT" >> '${ledger}'
`;
}

/** Live (not zombie) processes whose environment holds every one of `vars` (`NAME=value`). */
async function processesWith(vars: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const environ = (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0');
      if (!vars.every((v) => environ.includes(v))) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
      found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function waitFor(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await access(file);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs}ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('kill -9 of pilotage serve while a silent component runs', { concurrency: false }, () => {
  const dirs: string[] = [];
  const servers: ServeProcess[] = [];
  const strays: number[] = [];
  before(() => assert.ok(existsSync(CLI_BUILT), `build first (npm run build): ${CLI_BUILT} is missing`));
  after(async () => {
    for (const server of servers) await stopServe(server);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('the restart kills the orphan before the retry starts; the ledger shows no overlap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-orphan-'));
    dirs.push(dir);
    const first = await startServe(dir);
    servers.push(first);
    const applied = await first.api('POST', '/v1/workflows', silentWorkflow(dir));
    assert.ok(applied.ok, await applied.text());
    const started = await first.api('POST', '/v1/workflows/silent/runs', { data: {} });
    const { id: runId } = (await started.json()) as { id: string };
    assert.equal(started.status, 201);
    await waitFor(join(dir, 'started-1'));

    first.child.kill('SIGKILL');
    await first.exited;
    const attempt1 = [`CO_RUN_ID=${runId}`, 'CO_ATTEMPT=1'];
    const orphans = await processesWith(attempt1);
    strays.push(...orphans);
    assert.ok(orphans.length >= 2, 'the component (a shell and its sleep) outlived the engine');

    const second = await startServe(dir);
    servers.push(second);
    await waitFor(join(dir, 'started-2'));
    assert.deepEqual(await processesWith(attempt1), [], 'nothing of attempt 1 is alive once attempt 2 runs');
    await writeFile(join(dir, 'release'), '');
    const run = await waitRunEnded(second, runId);
    assert.equal(run.state, 'succeeded', JSON.stringify(run));

    const ledger = (await readFile(join(dir, 'ledger'), 'utf8')).trim().split('\n');
    const firstOfTwo = ledger.indexOf('start 2');
    assert.ok(firstOfTwo > 0, ledger.join('\n'));
    const lateOnes = ledger.slice(firstOfTwo).filter((line) => line.endsWith(' 1'));
    assert.deepEqual(lateOnes, [], 'attempt 1 wrote nothing once attempt 2 had started');
    assert.equal(ledger.at(-1), 'end 2');

    const detail = (await (await second.api('GET', `/v1/runs/${runId}`)).json()) as any;
    const attempts = detail.actions[0].attempts as { attempt: number; state: string; reason: string | null }[];
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.state]),
      [
        [1, 'errored'],
        [2, 'succeeded'],
      ],
    );
    assert.match(attempts[0]!.reason ?? '', /^lost: /);
    await stopServe(second);
    assert.equal(await second.exited, 0, second.output());
  });
});
