import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startCleanupJob } from '../../src/service/cleanup-job.js';
import type { Store } from '../../src/store/types.js';
import { newEvent, newRun, newTaskRun } from './fixtures.js';
import type { StoreHarness } from './harness.js';

const DAY = 86_400_000;

/** A run that ended at `endedAt`, with a task run, a status, log lines and two events (one delivered to `sink`). */
async function endedRun(
  store: Store,
  endedAt: number,
  sink = 'http://sink',
): Promise<{ runId: string; taskId: string }> {
  const run = await store.runs.create(newRun('kept', { createdAt: endedAt - 1000 }), [newEvent(null)]);
  const task = await store.taskRuns.create(newTaskRun(run.id, { createdAt: endedAt - 900 }));
  await store.statuses.record(task.id, { at: endedAt - 800, message: 'half' });
  await store.logs.append(task.id, [
    { at: endedAt - 700, stream: 'stdout', line: 'one' },
    { at: endedAt - 600, stream: 'stderr', line: 'two' },
  ]);
  assert.ok(await store.taskRuns.transition(task.id, ['pending'], 'succeeded', endedAt - 500));
  assert.ok(await store.runs.transition(run.id, ['queued'], 'running', endedAt - 400));
  const finished = { ...newEvent(run.id, 'dev.cdevents.pipelinerun.finished.0.3.0'), createdAt: endedAt };
  assert.ok(await store.runs.transition(run.id, ['running'], 'succeeded', endedAt, { endedAt }, [finished]));
  await store.deliveries.enqueueNew(sink, endedAt);
  for (const d of await store.deliveries.listPending(sink, 100)) {
    if (d.runId === run.id) await store.deliveries.markDelivered(sink, d.eventSeq, endedAt);
  }
  return { runId: run.id, taskId: task.id };
}

/** RetentionStore and the cleanup job: what goes, what stays, one replica at a time. */
export function retentionCases(h: StoreHarness): void {
  describe('retention', () => {
    test('an old ended run goes with everything of its own; a recent one and an unended one stay', async (t) => {
      const store = await h.fresh(t);
      const now = Date.now();
      const old = await endedRun(store, now - 100 * DAY);
      const recent = await endedRun(store, now - DAY);
      const running = await store.runs.create(newRun('live', { createdAt: now - 200 * DAY }));
      assert.ok(await store.runs.transition(running.id, ['queued'], 'running', now - 200 * DAY));
      assert.equal(await store.retention.deleteRuns(now - 90 * DAY, 100), 1);
      assert.equal(await store.runs.get(old.runId), undefined);
      assert.equal(await store.taskRuns.get(old.taskId), undefined);
      assert.deepEqual(await store.logs.read(old.taskId), []);
      assert.deepEqual(await store.statuses.list(old.taskId), []);
      assert.deepEqual(await store.transitions.list(old.runId), []);
      assert.deepEqual(await store.transitions.list(old.taskId), []);
      assert.deepEqual(await store.outbox.listByRun(old.runId), []);
      assert.deepEqual(await store.deliveries.list({ runId: old.runId }), []);
      assert.ok((await store.runs.get(recent.runId)) !== undefined);
      assert.equal((await store.logs.read(recent.taskId)).length, 2);
      assert.equal((await store.runs.get(running.id))?.state, 'running');
      assert.equal(await store.retention.deleteRuns(now - 90 * DAY, 100), 0);
    });

    test('log lines of old runs go, the runs stay; batches stop at the limit', async (t) => {
      const store = await h.fresh(t);
      const now = Date.now();
      const a = await endedRun(store, now - 40 * DAY);
      const b = await endedRun(store, now - 35 * DAY);
      const fresh = await endedRun(store, now - DAY);
      assert.equal(await store.retention.deleteLogs(now - 30 * DAY, 1), 2, 'one task run’s lines per batch of 1');
      assert.equal(await store.retention.deleteLogs(now - 30 * DAY, 1), 2);
      assert.equal(await store.retention.deleteLogs(now - 30 * DAY, 1), 0);
      assert.deepEqual(await store.logs.read(a.taskId), []);
      assert.deepEqual(await store.logs.read(b.taskId), []);
      assert.equal((await store.taskRuns.get(a.taskId))?.state, 'succeeded');
      assert.equal((await store.logs.read(fresh.taskId)).length, 2);
    });

    test('delivered events go after their time; an undelivered or dead one stays', async (t) => {
      const store = await h.fresh(t);
      const now = Date.now();
      const { runId } = await endedRun(store, now - 10 * DAY);
      // the run's queued-less run holds two events: a runless one (never delivered) and its finished one
      const before = await store.outbox.listAfter(0, 100);
      assert.equal(before.length, 2);
      assert.equal(await store.retention.deleteEvents(now - 7 * DAY, 100), 1);
      const left = await store.outbox.listAfter(0, 100);
      assert.deepEqual(
        left.map((e) => e.runId),
        [null],
        'the pending one stays',
      );
      assert.deepEqual(await store.outbox.listByRun(runId), []);
      const pending = (await store.deliveries.list({ state: 'pending' }))[0]!;
      await store.deliveries.markFailed(pending.sink, pending.eventSeq, 'gone', now, true);
      assert.equal(await store.retention.deleteEvents(now, 100), 0, 'a dead delivery keeps its event');
    });

    test('incoming CDEvent receipts go after their time', async (t) => {
      const store = await h.fresh(t);
      const now = Date.now();
      assert.ok(await store.inbox.recordIfNew('s', 'old', 't', now - 10 * DAY));
      assert.ok(await store.inbox.recordIfNew('s', 'new', 't', now));
      assert.equal(await store.retention.deleteInbox(now - 7 * DAY, 100), 1);
      assert.equal(await store.inbox.get('s', 'old'), undefined);
      assert.ok((await store.inbox.get('s', 'new')) !== undefined);
    });

    test('the cleanup job runs on one replica at a time and applies every setting', async (t) => {
      const url = await h.freshUrl();
      const one = await h.open(t, url);
      const two = h.dialect === 'postgres' ? await h.open(t, url) : one;
      const now = Date.now();
      const old = await endedRun(one, now - 100 * DAY);
      const logsOnly = await endedRun(one, now - 40 * DAY);
      const settings = {
        retainRunsMs: 90 * DAY,
        retainLogsMs: 30 * DAY,
        retainEventsMs: 7 * DAY,
        cleanupIntervalMs: 0,
      };
      const log = { info: () => undefined, warn: (m: string) => assert.fail(m) };
      const a = startCleanupJob({ store: one, settings, owner: () => 'replica-a', log });
      const b = startCleanupJob({ store: two, settings, owner: () => 'replica-b', log });
      t.after(async () => {
        await a.stop();
        await b.stop();
      });
      // b holds the job's lease: a's pass does nothing
      assert.ok(await two.sinkLeases.acquire('job:cleanup', 'replica-b', now, now + 60_000));
      assert.equal(await a.runOnce(), undefined);
      assert.ok((await one.runs.get(old.runId)) !== undefined);
      await two.sinkLeases.release('job:cleanup', 'replica-b');
      const removed = await a.runOnce();
      // the old run's events went with it; the other run's delivered one goes; the runless ones wait for delivery
      assert.deepEqual(removed, { runs: 1, workspaces: 0, logLines: 2, events: 1, inbox: 0 });
      assert.equal(await one.runs.get(old.runId), undefined);
      assert.deepEqual(await one.logs.read(logsOnly.taskId), []);
      assert.ok((await one.runs.get(logsOnly.runId)) !== undefined);
      assert.equal(await one.sinkLeases.holder('job:cleanup'), undefined, 'the lease is given back');
      assert.deepEqual(await b.runOnce(), { runs: 0, workspaces: 0, logLines: 0, events: 0, inbox: 0 });
    });

    test('kept workspaces: recorded as a run ends, found once expired (not while a rerun copies one), then expired; the run stays until then', async (t) => {
      const store = await h.fresh(t);
      const now = Date.now();
      /** a run that ended `endedAt` with its workspace kept until `expiresAt` */
      const keptRun = async (endedAt: number, expiresAt: number | null) => {
        const run = await store.runs.create(newRun('kept', { createdAt: endedAt - 1000 }));
        assert.deepEqual(run.workspace, { from: null, state: null, expiresAt: null });
        assert.ok(await store.runs.transition(run.id, ['queued'], 'running', endedAt - 500));
        const patch = { endedAt, reason: 'boom', workspaceKept: { expiresAt } };
        assert.ok(await store.runs.transition(run.id, ['running'], 'failed', endedAt, patch));
        return run.id;
      };
      const expired = await keptRun(now - 100 * DAY, now - 99 * DAY);
      const copied = await keptRun(now - 3 * DAY, now - 2 * DAY);
      const fresh = await keptRun(now - 1000, now + DAY);
      const forever = await keptRun(now - 200 * DAY, null);
      assert.deepEqual((await store.runs.get(fresh))?.workspace, { from: null, state: 'kept', expiresAt: now + DAY });
      // a rerun that has not ended copies `copied`'s workspace: it is not due yet
      const rerun = await store.runs.create(newRun('kept', { createdAt: now, workspaceFrom: copied }));
      assert.equal((await store.runs.get(rerun.id))?.workspace.from, copied);
      assert.deepEqual(await store.retention.expiredWorkspaces(now, 100), [expired]);
      // a kept workspace that will expire holds its run back from deletion; one kept for ever does not
      assert.equal(await store.retention.deleteRuns(now - 90 * DAY, 100), 1);
      assert.equal(await store.runs.get(forever), undefined);
      assert.ok((await store.runs.get(expired)) !== undefined);

      assert.equal(await store.retention.markWorkspaceExpired(expired), true);
      assert.equal(await store.retention.markWorkspaceExpired(expired), false, 'once');
      assert.deepEqual((await store.runs.get(expired))?.workspace, {
        from: null,
        state: 'expired',
        expiresAt: now - 99 * DAY,
      });
      assert.equal(await store.retention.deleteRuns(now - 90 * DAY, 100), 1, 'gone once its workspace is');

      assert.ok(await store.runs.transition(rerun.id, ['queued'], 'running', now));
      assert.ok(await store.runs.transition(rerun.id, ['running'], 'succeeded', now + 1, { endedAt: now + 1 }));
      assert.deepEqual(await store.retention.expiredWorkspaces(now, 100), [copied], 'due once the rerun ended');
      assert.deepEqual(
        await store.retention.expiredWorkspaces(now + 2 * DAY, 1),
        [copied],
        'oldest first, at most limit',
      );
    });

    test('the schema is up to date after opening; migrating again applies nothing', async (t) => {
      const store = await h.fresh(t);
      const status = await store.schema.status();
      assert.deepEqual(status.pending, []);
      assert.deepEqual(status.newer, []);
      assert.ok(status.applied.includes('0060-replicas'));
      assert.deepEqual(await store.schema.migrate(), []);
    });
  });
}
