import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { UnavailableError } from '../src/domain/errors.js';
import { createWorkflowRunStarter } from '../src/service/workflow-run-starter.js';
import { openStore } from '../src/store/open-store.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { processesOfRun } from './support/harness.js';
import { storeWorkflow, waitingWorkflow } from './serve-waiting-workflow.js';

/** Start a run of the stored workflow `name` as the API does (through the run starter). */
function starterOf(h: ApiHarness) {
  const { store, engine } = h.server.runtime;
  return createWorkflowRunStarter({ store, engine, accepting: () => h.server.lifecycle.accepting });
}

/** Reopen the harness's SQLite file after the server closed it. */
async function reopen(h: ApiHarness) {
  assert.ok(!existsSync(`${h.config.db}-wal`), 'the store was closed cleanly (WAL checkpointed away)');
  return openStore({ url: h.config.db });
}

describe('graceful shutdown of an in-process server', () => {
  test('a running task finishes within the grace while new work is refused; the store closes cleanly', async () => {
    const h = await createApiHarness({ config: { shutdownGraceMs: 60_000 } });
    try {
      const workflow = await waitingWorkflow(h.dir);
      await storeWorkflow(h.server.runtime.store, workflow);
      const starter = starterOf(h);
      const run = await starter.start({ workflow: workflow.name, data: {}, trigger: { kind: 'manual' } });
      await workflow.started();

      const closing = h.server.close();
      const ready = await fetch(`${h.server.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { ok: false, reason: 'shutting down' });
      await assert.rejects(
        starter.start({ workflow: workflow.name, data: {}, trigger: { kind: 'manual' } }),
        (error: unknown) => error instanceof UnavailableError && error.code === 'UNAVAILABLE',
      );
      const metrics = await fetch(`${h.server.url}/metrics`);
      assert.equal(metrics.status, 200, 'still observable while draining');

      await workflow.release();
      await closing;
      await assert.rejects(fetch(`${h.server.url}/healthz`), 'the port is closed');

      const store = await reopen(h);
      try {
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
      } finally {
        await store.close();
      }
      assert.match(h.logText(), /shutting down: waiting up to 60000ms for 1 run\(s\)/);
      assert.match(h.logText(), /pilotage stopped/);
    } finally {
      await h.close();
    }
  });

  test('when the grace runs out the run ends cancelled with the reason, and nothing is left running', async () => {
    const h = await createApiHarness({ config: { shutdownGraceMs: 300 } });
    try {
      const workflow = await waitingWorkflow(h.dir);
      await storeWorkflow(h.server.runtime.store, workflow);
      const run = await starterOf(h).start({ workflow: workflow.name, data: {}, trigger: { kind: 'manual' } });
      await workflow.started();

      await h.server.close();
      assert.deepEqual(await processesOfRun(run.id), [], 'the component was stopped');
      const store = await reopen(h);
      try {
        const final = await store.runs.get(run.id);
        assert.equal(final?.state, 'cancelled');
        assert.equal(final?.reason, 'server shutting down: the shutdown grace of 300ms ran out');
        const [task] = await store.taskRuns.listByRun(run.id);
        assert.equal(task?.state, 'cancelled');
        assert.notEqual(task?.endedAt, null);
      } finally {
        await store.close();
      }
      assert.match(h.logText(), /the shutdown grace of 300ms ran out; cancelling 1 run\(s\)/);
    } finally {
      await h.close();
    }
  });

  test('an open live-update stream does not hold the shutdown up; it ends', async () => {
    const h = await createApiHarness({ config: { shutdownGraceMs: 300 } });
    try {
      const workflow = await waitingWorkflow(h.dir);
      await storeWorkflow(h.server.runtime.store, workflow);
      const run = await starterOf(h).start({ workflow: workflow.name, data: {}, trigger: { kind: 'manual' } });
      await workflow.started();
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
      const store = await reopen(h);
      await store.close();
    } finally {
      await h.close();
    }
  });
});
