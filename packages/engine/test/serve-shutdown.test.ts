import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { UnavailableError } from '../src/domain/errors.js';
import { createWorkflowRunStarter } from '../src/service/workflow-run-starter.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/types.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { processesOfRun } from './support/harness.js';
import { storeWorkflow, waitingWorkflow, type WaitingWorkflow } from './serve-waiting-workflow.js';

/** What starts a manual run of `workflow`. */
function manual(workflow: WaitingWorkflow) {
  return { workflow: workflow.name, data: {}, trigger: { kind: 'manual' as const } };
}

/**
 * Store a waiting workflow on the harness's server, start a run of it as the API does (through
 * the run starter) and wait until its component runs.
 */
async function startWaitingRun(h: ApiHarness) {
  const workflow = await waitingWorkflow(h.dir);
  const { store, engine } = h.server.runtime;
  await storeWorkflow(store, workflow);
  const starter = createWorkflowRunStarter({ store, engine, accepting: () => h.server.lifecycle.accepting });
  const run = await starter.start(manual(workflow));
  await workflow.started();
  return { workflow, starter, run };
}

/** Reopen the harness's SQLite file after the server closed it, run `fn` on it, close it. */
async function withReopenedStore(h: ApiHarness, fn: (store: Store) => Promise<void>): Promise<void> {
  assert.ok(!existsSync(`${h.config.db}-wal`), 'the store was closed cleanly (WAL checkpointed away)');
  const store = await openStore({ url: h.config.db });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('graceful shutdown of an in-process server', () => {
  test('a running task finishes within the grace while new work is refused; the store closes cleanly', async () => {
    const h = await createApiHarness({ config: { shutdownGraceMs: 60_000 } });
    try {
      const { workflow, starter, run } = await startWaitingRun(h);

      const closing = h.server.close();
      const ready = await fetch(`${h.server.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { ok: false, reason: 'shutting down' });
      await assert.rejects(
        starter.start(manual(workflow)),
        (error: unknown) => error instanceof UnavailableError && error.code === 'UNAVAILABLE',
      );
      const metrics = await fetch(`${h.server.url}/metrics`);
      assert.equal(metrics.status, 200, 'still observable while draining');

      await workflow.release();
      await closing;
      await assert.rejects(fetch(`${h.server.url}/healthz`), 'the port is closed');

      await withReopenedStore(h, async (store) => {
        const final = await store.runs.get(run.id);
        assert.equal(final?.state, 'succeeded', final?.reason ?? '');
        const [task] = await store.taskRuns.listByRun(run.id);
        assert.equal(task?.state, 'succeeded');
        assert.deepEqual(task?.output, { released: true });
        assert.deepEqual(await store.runs.countByState(), {
          queued: 0,
          running: 0,
          succeeded: 1,
          failed: 0,
          errored: 0,
          cancelled: 0,
        });
      });
      assert.match(h.logText(), /shutting down: waiting up to 60000ms for 1 run\(s\)/);
      assert.match(h.logText(), /pilotage stopped/);
    } finally {
      await h.close();
    }
  });

  test('when the grace runs out the run ends cancelled with the reason, and nothing is left running', async () => {
    const h = await createApiHarness({ config: { shutdownGraceMs: 300 } });
    try {
      const { run } = await startWaitingRun(h);

      await h.server.close();
      assert.deepEqual(await processesOfRun(run.id), [], 'the component was stopped');
      await withReopenedStore(h, async (store) => {
        const final = await store.runs.get(run.id);
        assert.equal(final?.state, 'cancelled');
        assert.equal(final?.reason, 'server shutting down: the shutdown grace of 300ms ran out');
        const [task] = await store.taskRuns.listByRun(run.id);
        assert.equal(task?.state, 'cancelled');
        assert.notEqual(task?.endedAt, null);
      });
      assert.match(h.logText(), /the shutdown grace of 300ms ran out; cancelling 1 run\(s\)/);
    } finally {
      await h.close();
    }
  });

  test('an open live-update stream does not hold the shutdown up; it ends', async () => {
    const h = await createApiHarness({ config: { shutdownGraceMs: 300 } });
    try {
      const { run } = await startWaitingRun(h);
      const stream = await fetch(`${h.server.url}/v1/runs/${run.id}/events`, {
        headers: { authorization: `Bearer ${h.admin}`, accept: 'text/event-stream' },
      });
      assert.equal(stream.status, 200);
      const reader = stream.body!.getReader();
      assert.ok((await reader.read()).value, 'the stream sent its snapshot');
      const drained = (async () => {
        try {
          while (!(await reader.read()).done);
        } catch {
          // the connection was closed under the reader: ended as well
        }
      })();
      const closed = await Promise.race([
        h.server.close().then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('stuck'), 30_000).unref()),
      ]);
      assert.equal(closed, 'closed');
      await drained;
    } finally {
      await h.close();
    }
  });

  test('close is safe to repeat and an idle server stops at once', async () => {
    const h = await createApiHarness({ config: { shutdownGraceMs: 60_000 } });
    try {
      const began = Date.now();
      await Promise.all([h.server.close(), h.server.close()]);
      await h.server.close();
      assert.ok(Date.now() - began < 30_000, 'did not wait for the grace with nothing running');
      await withReopenedStore(h, async () => undefined);
    } finally {
      await h.close();
    }
  });
});
