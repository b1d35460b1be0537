import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/types.js';
import { CLI_BUILT } from './support/cli.js';
import { processesOfRun } from './support/harness.js';
import { startServe, type ServeProcess } from './support/serve-process.js';
import { storeWorkflow, waitingWorkflow, type WaitingWorkflow } from './serve-waiting-workflow.js';

/** Start a run through the API (what `pilotage run --server` does). */
async function startRun(server: ServeProcess, workflow: string): Promise<Response> {
  return fetch(`${server.url}/v1/workflows/${workflow}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data: {} }),
  });
}

/** Start a run of `workflow` through the API (201) and wait until its component runs; the run id. */
async function startWaitingRun(server: ServeProcess, workflow: WaitingWorkflow): Promise<string> {
  const started = await startRun(server, workflow.name);
  const body = await started.text();
  assert.equal(started.status, 201, body);
  await workflow.started();
  return (JSON.parse(body) as { id: string }).id;
}

/** Poll `/readyz` (at most ~5 s) until it answers 503; the last status. */
async function readinessWhileStopping(server: ServeProcess): Promise<number> {
  let status = (await fetch(`${server.url}/readyz`)).status;
  for (let i = 1; i < 100 && status !== 503; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await fetch(`${server.url}/readyz`)).status;
  }
  return status;
}

/** Open the store the (exited) server left in `dir`, run `fn` on it, close it. */
async function withStore<T>(dir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ url: join(dir, 'pilotage.db') });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('SIGTERM to a real `pilotage serve`', { concurrency: false }, () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  before(async () => {
    assert.ok(existsSync(CLI_BUILT), `build first (npm run build): ${CLI_BUILT} is missing`);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** A new folder holding the stored waiting workflow `name`, and a server on it with this grace. */
  async function serveWaiting(name: string, grace: string) {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-sigterm-'));
    dirs.push(dir);
    const workflow = await waitingWorkflow(dir, name);
    await withStore(dir, (store) => storeWorkflow(store, workflow));
    const server = await startServe(dir, { PILOTAGE_SHUTDOWN_GRACE: grace });
    children.push(server.child);
    return { dir, workflow, server };
  }

  test('the running task finishes within the grace, new runs get 503, the process exits 0', async () => {
    const { dir, workflow, server } = await serveWaiting('drains', '60s');
    await startWaitingRun(server, workflow);

    server.child.kill('SIGTERM');
    // readiness turns 503 at once; the port stays open for the running component's callbacks
    assert.equal(await readinessWhileStopping(server), 503);
    const refused = await startRun(server, workflow.name);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { code: string }).code, 'UNAVAILABLE');

    await workflow.release();
    assert.equal(await server.exited, 0, server.output());
    assert.ok(!existsSync(join(dir, 'pilotage.db-wal')), 'the store was closed cleanly');
    await withStore(dir, async (store) => {
      const [run, ...others] = await store.runs.list({ workflow: workflow.name });
      assert.equal(run?.state, 'succeeded', run?.reason ?? '');
      assert.equal(others.length, 0, 'the refused start made no run');
    });
    assert.match(server.output(), /shutting down: waiting up to 60000ms for 1 run\(s\)/);
  });

  test('with a short grace the run ends cancelled with a reason, the component is stopped, exit 0', async () => {
    const { dir, workflow, server } = await serveWaiting('cut-short', '500ms');
    const id = await startWaitingRun(server, workflow);

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    assert.deepEqual(await processesOfRun(id), [], 'no component process is left');
    assert.ok(!existsSync(join(dir, 'pilotage.db-wal')), 'the store was closed cleanly');
    await withStore(dir, async (store) => {
      const run = await store.runs.get(id);
      assert.equal(run?.state, 'cancelled');
      assert.equal(run?.reason, 'server shutting down: the shutdown grace of 500ms ran out');
      const [task] = await store.taskRuns.listByRun(id);
      assert.equal(task?.state, 'cancelled');
    });
  });

  test('a second SIGTERM exits at once (130), leaving the run for the next start to recover', async () => {
    const { dir, workflow, server } = await serveWaiting('twice', '60s');
    const id = await startWaitingRun(server, workflow);

    server.child.kill('SIGTERM');
    assert.equal(await readinessWhileStopping(server), 503, 'the first SIGTERM started the graceful stop');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 130, server.output());
    assert.match(server.output(), /SIGTERM again: exiting now/);
    // the component outlived the server (a restart's recovery deals with it); stop it here
    for (const pid of await processesOfRun(id)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // a short-lived child (the wait loop's sleep) ended meanwhile
      }
    }
    await withStore(dir, async (store) => {
      assert.equal((await store.runs.get(id))?.state, 'running', 'nothing was recorded: recovery carries it on');
    });
  });
});
