import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CacheEntryRecord } from '../../src/store/types.js';
import type { StoreHarness } from './harness.js';
import { newRun, newTaskRun } from './fixtures.js';

function entry(key: string, overrides: Partial<CacheEntryRecord> = {}): CacheEntryRecord {
  return {
    key,
    workflow: 'build',
    action: 'compile',
    runId: 'run-1',
    taskRunId: 'task-1',
    output: { artifact: 'app.tar', size: 3, nested: { ok: true } },
    paths: ['dist'],
    sizeBytes: 5_000_000_000,
    createdAt: 1_000,
    lastUsedAt: 1_000,
    ...overrides,
  };
}

/** The workflow language's columns and areas: matrix places, run links and outputs, cache, groups. */
export function languageCases(h: StoreHarness): void {
  describe('workflow language', () => {
    test('a run keeps its parent, concurrency group and outputs; children list by parent', async (t) => {
      const store = await h.fresh(t);
      const parent = await store.runs.create(newRun('release'));
      const task = await store.taskRuns.create(newTaskRun(parent.id));
      const child = await store.runs.create(
        newRun('deploy', { parent: { runId: parent.id, taskRunId: task.id }, concurrencyGroup: 'deploy-prod' }),
      );
      await store.runs.create(newRun('deploy'));
      assert.deepEqual(child.parent, { runId: parent.id, taskRunId: task.id });
      assert.equal(child.concurrencyGroup, 'deploy-prod');
      assert.equal(child.outputs, null);
      assert.deepEqual(await store.runs.get(child.id), child);
      assert.equal((await store.runs.get(parent.id))!.parent, null);
      assert.deepEqual(
        (await store.runs.list({ parentRunId: parent.id })).map((r) => r.id),
        [child.id],
      );
      await store.runs.transition(child.id, ['queued'], 'running', 2);
      await store.runs.transition(child.id, ['running'], 'succeeded', 3, { outputs: { url: 'https://x', n: 2 } });
      assert.deepEqual((await store.runs.get(child.id))!.outputs, { url: 'https://x', n: 2 });
      assert.deepEqual(
        (await store.runs.list({ concurrencyGroup: 'deploy-prod', states: ['queued', 'running'] })).length,
        0,
      );
    });

    test('a task run keeps its matrix place', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const matrix = { action: 'build', index: 2, values: { os: 'mac', node: 20, extra: null } };
      const task = await store.taskRuns.create(newTaskRun(run.id, { action: 'build (mac, 20)', matrix }));
      assert.deepEqual(task.matrix, matrix);
      const [stored, plain] = [(await store.taskRuns.get(task.id))!, await store.taskRuns.create(newTaskRun(run.id))];
      assert.deepEqual(stored.matrix, matrix);
      assert.equal(plain.matrix, null);
    });

    test('cache entries: replaced whole, touched, listed by last use, cleared by filter', async (t) => {
      const store = await h.fresh(t);
      await store.cache.put(entry('a'));
      await store.cache.put(entry('b', { workflow: 'test', lastUsedAt: 2_000 }));
      await store.cache.put(entry('a', { runId: 'run-2', output: { v: 2 }, paths: [], sizeBytes: 0 }));
      assert.deepEqual(
        await store.cache.get('a'),
        entry('a', { runId: 'run-2', output: { v: 2 }, paths: [], sizeBytes: 0 }),
      );
      assert.equal(await store.cache.get('missing'), undefined);
      await store.cache.touch('a', 3_000);
      assert.deepEqual(
        (await store.cache.list()).map((e) => [e.key, e.lastUsedAt]),
        [
          ['a', 3_000],
          ['b', 2_000],
        ],
      );
      assert.deepEqual(await store.cache.usage(), { entries: 2, bytes: 5_000_000_000 });
      assert.deepEqual(
        (await store.cache.clear({ workflow: 'test' })).map((e) => e.key),
        ['b'],
      );
      assert.deepEqual(
        (await store.cache.list({ workflow: 'build', action: 'compile' })).map((e) => e.key),
        ['a'],
      );
      assert.deepEqual(
        (await store.cache.clear()).map((e) => e.key),
        ['a'],
      );
      assert.deepEqual(await store.cache.list(), []);
    });

    test('cache eviction: expired entries first, then the least recently used', async (t) => {
      const store = await h.fresh(t);
      for (const [key, used] of [
        ['old', 100],
        ['mid', 200],
        ['new', 300],
        ['newest', 400],
      ] as const) {
        await store.cache.put(entry(key, { lastUsedAt: used, sizeBytes: 10 }));
      }
      assert.deepEqual(await store.cache.expire(150), ['old']);
      assert.deepEqual((await store.cache.evictOldest(2)).map((e) => e.key).sort(), ['mid', 'new']);
      assert.deepEqual(await store.cache.usage(), { entries: 1, bytes: 10 });
      assert.deepEqual(
        (await store.cache.list()).map((e) => e.key),
        ['newest'],
      );
    });

    test('a concurrency group: claimed one run at a time, oldest first, free again when it ends', async (t) => {
      const store = await h.fresh(t);
      const group = { concurrencyGroup: 'deploy-prod' };
      const first = await store.runs.create(newRun('deploy', group));
      const second = await store.runs.create(newRun('deploy', group));
      const third = await store.runs.create(newRun('deploy', group));
      const other = await store.runs.create(newRun('deploy', { concurrencyGroup: 'deploy-staging' }));
      const plain = await store.runs.create(newRun('deploy'));
      const claimed = async (owner: string, only?: string[]) =>
        (await store.leases.claimQueued(owner, { limit: 10, ...(only ? { only } : {}) })).map((c) => c.run.id).sort();
      assert.deepEqual(await claimed('a', [second.id]), [], 'second may not overtake the first');
      assert.deepEqual(await claimed('a'), [first.id, other.id, plain.id].sort(), 'one of each group, and the rest');
      assert.deepEqual(await claimed('b'), [], 'held: a claimed run of the group');
      await store.runs.transition(first.id, ['queued'], 'running', 2);
      assert.deepEqual(await claimed('b'), [], 'held: a running run of the group');
      await store.runs.transition(first.id, ['running'], 'succeeded', 3);
      await store.runs.transition(second.id, ['queued'], 'cancelled', 4);
      assert.deepEqual(await claimed('b'), [third.id], 'free again; a cancelled waiter left the queue');
    });

    test('concurrent claims of one group take one run between them', async (t) => {
      const store = await h.fresh(t);
      for (let i = 0; i < 6; i++) await store.runs.create(newRun('deploy', { concurrencyGroup: 'g' }));
      const rounds = await Promise.all(
        ['a', 'b', 'c', 'd'].map((owner) => store.leases.claimQueued(owner, { limit: 5 })),
      );
      assert.equal(rounds.flat().length, 1);
    });

    test('a grouped run of a capped workflow waits for both', async (t) => {
      const store = await h.fresh(t);
      const running = await store.runs.create(newRun('capped', { maxRuns: 1 }));
      await store.leases.claimQueued('a', { limit: 1 });
      await store.runs.transition(running.id, ['queued'], 'running', 1);
      const grouped = await store.runs.create(newRun('capped', { maxRuns: 1, concurrencyGroup: 'g' }));
      assert.deepEqual(await store.leases.claimQueued('b', { limit: 5 }), [], 'the workflow has no room');
      await store.runs.transition(running.id, ['running'], 'succeeded', 2);
      assert.deepEqual(
        (await store.leases.claimQueued('b', { limit: 5 })).map((c) => c.run.id),
        [grouped.id],
      );
    });
  });
}
