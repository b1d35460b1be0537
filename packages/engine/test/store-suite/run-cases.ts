import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../src/domain/ids.js';
import type { StoreHarness } from './harness.js';
import { newEvent, newRun } from './fixtures.js';

/** RunStore: numbering, compare-and-set transitions, listing. */
export function runCases(h: StoreHarness): void {
  describe('runs', () => {
    test('create returns the stored run, numbered per workflow, with its JSON intact', async (t) => {
      const store = await h.fresh(t);
      const input = newRun('build');
      const created = await store.runs.create(input);
      const second = await store.runs.create(newRun('build'));
      const other = await store.runs.create(newRun('deploy'));
      assert.deepEqual([created.number, second.number, other.number], [1, 2, 1]);
      assert.equal(created.state, 'queued');
      assert.deepEqual(await store.runs.get(input.id), created);
      assert.deepEqual(created.inputs, input.inputs);
      assert.deepEqual(created.plan, input.plan);
      assert.deepEqual(created.trigger, input.trigger);
      assert.equal(typeof created.createdAt, 'number');
      assert.equal(await store.runs.get(newId()), undefined);
    });

    test('sealed inputs are stored apart from the record and read back by id only', async (t) => {
      const store = await h.fresh(t);
      const sealed = { ...newRun('sealed'), inputs: { token: '***' }, sealedInputs: 'v1.iv.tag.ciphertext' };
      const created = await store.runs.create(sealed);
      assert.equal('sealedInputs' in created, false, 'not part of the record');
      assert.equal('sealedInputs' in (await store.runs.get(sealed.id))!, false);
      assert.equal(await store.runs.sealedInputs(sealed.id), 'v1.iv.tag.ciphertext');
      const plain = await store.runs.create(newRun('sealed'));
      assert.equal(await store.runs.sealedInputs(plain.id), undefined);
      assert.equal(await store.runs.sealedInputs(newId()), undefined);
    });

    test('concurrent creates get distinct consecutive numbers', async (t) => {
      const store = await h.fresh(t);
      const runs = await Promise.all(
        Array.from({ length: 30 }, (_, i) => store.runs.create(newRun(i % 2 === 0 ? 'even' : 'odd'))),
      );
      for (const workflow of ['even', 'odd']) {
        const numbers = runs.filter((r) => r.workflow === workflow).map((r) => r.number);
        assert.deepEqual(
          [...numbers].sort((a, b) => a - b),
          Array.from({ length: 15 }, (_, i) => i + 1),
        );
      }
    });

    test('create records the initial transition and its events in the same write', async (t) => {
      const store = await h.fresh(t);
      const run = newRun();
      const event = newEvent(run.id);
      await store.runs.create(run, [event]);
      assert.deepEqual(await store.transitions.list(run.id), [
        { entityId: run.id, from: null, to: 'queued', at: run.createdAt, reason: null },
      ]);
      const events = await store.outbox.listByRun(run.id);
      assert.deepEqual(
        events.map((e) => ({ ...e, seq: 0 })),
        [{ ...event, seq: 0, runSeq: 1 }],
      );
    });

    test('a create that fails writes nothing, events included', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const duplicate = newRun('build', { id: run.id });
      await assert.rejects(store.runs.create(duplicate, [newEvent(run.id)]));
      assert.equal((await store.outbox.listByRun(run.id)).length, 0);
      assert.equal((await store.runs.create(newRun())).number, 2, 'the failed create used no number');
    });

    test('transition is compare-and-set: writes transition, patch and events only when it moves', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const started = newEvent(run.id, 'dev.cdevents.pipelinerun.started.0.3.0');
      assert.equal(await store.runs.transition(run.id, ['succeeded'], 'running', 10, {}, [newEvent(run.id)]), false);
      assert.equal(await store.runs.transition(run.id, ['queued'], 'running', 20, { startedAt: 20 }, [started]), true);
      assert.equal(await store.runs.transition(run.id, ['queued'], 'cancelled', 25, { reason: 'late' }), false);
      const ended = await store.runs.transition(
        run.id,
        ['queued', 'running'],
        'failed',
        30,
        { endedAt: 30, reason: 'action compile failed' },
        [newEvent(run.id, 'dev.cdevents.pipelinerun.finished.0.3.0')],
      );
      assert.equal(ended, true);
      const after = await store.runs.get(run.id);
      assert.equal(after?.state, 'failed');
      assert.equal(after?.startedAt, 20);
      assert.equal(after?.endedAt, 30);
      assert.equal(after?.reason, 'action compile failed');
      assert.deepEqual(await store.transitions.list(run.id), [
        { entityId: run.id, from: null, to: 'queued', at: run.createdAt, reason: null },
        { entityId: run.id, from: 'queued', to: 'running', at: 20, reason: null },
        { entityId: run.id, from: 'running', to: 'failed', at: 30, reason: 'action compile failed' },
      ]);
      const types = (await store.outbox.listByRun(run.id)).map((e) => e.type);
      assert.deepEqual(types, ['dev.cdevents.pipelinerun.started.0.3.0', 'dev.cdevents.pipelinerun.finished.0.3.0']);
      assert.equal(await store.runs.transition(newId(), ['queued'], 'running', 1), false);
      assert.equal(await store.runs.transition(run.id, [], 'running', 1), false);
    });

    test('concurrent transitions from the same state: exactly one wins', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.runs.transition(run.id, ['queued'], 'running', 100 + i, {}, [newEvent(run.id)]),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.transitions.list(run.id)).length, 2);
      assert.equal((await store.outbox.listByRun(run.id)).length, 1);
    });

    test('list: newest first, cursor pagination, filters, listByState', async (t) => {
      const store = await h.fresh(t);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await store.runs.create(newRun(i < 4 ? 'build' : 'deploy'))).id);
      }
      await store.runs.transition(ids[1] ?? '', ['queued'], 'running', 5);
      await store.runs.transition(ids[5] ?? '', ['queued'], 'running', 5);
      const newestFirst = [...ids].reverse();
      assert.deepEqual(
        (await store.runs.list()).map((r) => r.id),
        newestFirst,
      );
      const page1 = await store.runs.list({ limit: 3 });
      const page2 = await store.runs.list({ limit: 3, before: page1.at(-1)?.id });
      const page3 = await store.runs.list({ limit: 3, before: page2.at(-1)?.id });
      assert.deepEqual(
        [...page1, ...page2, ...page3].map((r) => r.id),
        newestFirst,
      );
      assert.equal(page3.length, 1);
      assert.deepEqual(
        (await store.runs.list({ workflow: 'build' })).map((r) => r.id),
        ids.slice(0, 4).reverse(),
      );
      assert.deepEqual(
        (await store.runs.list({ state: 'running' })).map((r) => r.id),
        [ids[5], ids[1]],
      );
      assert.deepEqual(
        (await store.runs.list({ workflow: 'deploy', state: 'running' })).map((r) => r.id),
        [ids[5]],
      );
      const recovering = await store.runs.listByState(['running', 'queued']);
      assert.deepEqual(recovering.map((r) => r.id).sort(), [...ids].sort());
      assert.deepEqual(await store.runs.listByState(['succeeded']), []);
      assert.deepEqual(await store.runs.listByState([]), []);
    });
  });
}
