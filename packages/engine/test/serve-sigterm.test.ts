import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import type { RunRecord, Store } from '../src/store/types.js';
import { processesOfRun } from './support/harness.js';
import { storeWorkflow, waitingWorkflow, type WaitingWorkflow } from './serve-waiting-workflow.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'packages/engine/dist/cli/main.js');

/** A `pilotage serve` child process (the built CLI, as users run it). */
interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** the admin token the first start wrote */
  readonly token: string;
  output(): string;
  /** resolves with the exit code (or the signal's name) */
  readonly exited: Promise<number | string>;
}

async function startServe(dir: string, env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0'], {
    cwd: root,
    env: {
      ...process.env,
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
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${text}`)), 30_000);
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
  const token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  return { child, url, token, output: () => text, exited };
}

/** The latest run of `workflow` in the store. */
async function runOf(store: Store, workflow: string): Promise<RunRecord | undefined> {
  const [run] = await store.runs.list({ workflow, limit: 1 });
  return run;
}

/** Start a run through the API (what `pilotage run --server` does). */
async function startRun(server: ServeProcess, workflow: string): Promise<Response> {
  return fetch(`${server.url}/v1/workflows/${workflow}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data: {} }),
  });
}

describe('SIGTERM to a real `pilotage serve`', { concurrency: false }, () => {
  let dir: string;
  const children: ChildProcess[] = [];
  before(async () => {
    assert.ok(existsSync(cli), `build first (npm run build): ${cli} is missing`);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  async function prepare(name: string): Promise<WaitingWorkflow> {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-sigterm-'));
    const workflow = await waitingWorkflow(dir, name);
    const store = await openStore({ url: join(dir, 'pilotage.db') });
    try {
      await storeWorkflow(store, workflow);
    } finally {
      await store.close();
    }
    return workflow;
  }

  test('the running task finishes within the grace, new runs get 503, the process exits 0', async () => {
    const workflow = await prepare('drains');
    try {
      const server = await startServe(dir, { PILOTAGE_SHUTDOWN_GRACE: '60s' });
      children.push(server.child);
      const started = await startRun(server, workflow.name);
      assert.equal(started.status, 201, await started.text());
      await workflow.started();

      server.child.kill('SIGTERM');
      // readiness turns 503 at once; the port stays open for the running component's callbacks
      let ready: Response | undefined;
      for (let i = 0; i < 100 && ready?.status !== 503; i++) {
        ready = await fetch(`${server.url}/readyz`);
        if (ready.status !== 503) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(ready?.status, 503);
      const refused = await startRun(server, workflow.name);
      assert.equal(refused.status, 503);
      assert.equal(((await refused.json()) as { code: string }).code, 'UNAVAILABLE');

      await workflow.release();
      assert.equal(await server.exited, 0, server.output());
      assert.ok(!existsSync(join(dir, 'pilotage.db-wal')), 'the store was closed cleanly');
      const store = await openStore({ url: join(dir, 'pilotage.db') });
      try {
        const run = await runOf(store, workflow.name);
        assert.equal(run?.state, 'succeeded', run?.reason ?? '');
        assert.equal((await store.runs.list({ workflow: workflow.name })).length, 1, 'the refused start made no run');
      } finally {
        await store.close();
      }
      assert.match(server.output(), /shutting down: waiting up to 60000ms for 1 run\(s\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('with a short grace the run ends cancelled with a reason, the component is stopped, exit 0', async () => {
    const workflow = await prepare('cut-short');
    try {
      const server = await startServe(dir, { PILOTAGE_SHUTDOWN_GRACE: '500ms' });
      children.push(server.child);
      const started = await startRun(server, workflow.name);
      const body = await started.text();
      assert.equal(started.status, 201, body);
      const { id } = JSON.parse(body) as { id: string };
      await workflow.started();

      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0, server.output());
      assert.deepEqual(await processesOfRun(id), [], 'no component process is left');
      assert.ok(!existsSync(join(dir, 'pilotage.db-wal')), 'the store was closed cleanly');
      const store = await openStore({ url: join(dir, 'pilotage.db') });
      try {
        const run = await store.runs.get(id);
        assert.equal(run?.state, 'cancelled');
        assert.equal(run?.reason, 'server shutting down: the shutdown grace of 500ms ran out');
        const [task] = await store.taskRuns.listByRun(id);
        assert.equal(task?.state, 'cancelled');
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a second SIGTERM exits at once (130), leaving the run for the next start to recover', async () => {
    const workflow = await prepare('twice');
    try {
      const server = await startServe(dir, { PILOTAGE_SHUTDOWN_GRACE: '60s' });
      children.push(server.child);
      const started = await startRun(server, workflow.name);
      const body = await started.text();
      assert.equal(started.status, 201, body);
      const { id } = JSON.parse(body) as { id: string };
      await workflow.started();

      server.child.kill('SIGTERM');
      let ready: Response | undefined;
      for (let i = 0; i < 100 && ready?.status !== 503; i++) {
        ready = await fetch(`${server.url}/readyz`);
        if (ready.status !== 503) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(ready?.status, 503, 'the first SIGTERM started the graceful stop');
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 130, server.output());
      assert.match(server.output(), /SIGTERM again: exiting now/);
      // the component outlived the server (a restart's recovery deals with it); stop it here
      for (const pid of await processesOfRun(id)) process.kill(Number(pid), 'SIGKILL');
      const store = await openStore({ url: join(dir, 'pilotage.db') });
      try {
        assert.equal((await store.runs.get(id))?.state, 'running', 'nothing was recorded: recovery carries it on');
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
