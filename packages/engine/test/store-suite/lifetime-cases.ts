import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.js';
import { StoreClosedError } from '../../src/store/store-error.js';
import type { StoreHarness } from './harness.js';
import { newEvent, newRun, newTaskRun } from './fixtures.js';

/** Opening, reopening, closing. */
export function lifetimeCases(h: StoreHarness): void {
  describe('lifetime', () => {
    test('what resolved is there after reopening (migrations run once)', async (t) => {
      const url = await h.freshUrl();
      const first = await openStore({ url });
      const run = await first.runs.create(newRun(), [newEvent(null)]);
      const task = await first.taskRuns.create(newTaskRun(run.id));
      await first.logs.append(task.id, [{ at: 1, stream: 'stdout', line: 'kept' }]);
      await first.runs.transition(run.id, ['queued'], 'running', 2);
      await first.close();

      const second = await h.open(t, url);
      assert.equal(second.dialect, h.dialect);
      assert.equal((await second.runs.get(run.id))?.state, 'running');
      assert.deepEqual(
        (await second.logs.read(task.id)).map((l) => l.line),
        ['kept'],
      );
      assert.equal((await second.outbox.listAfter(0, 10)).length, 1);
      assert.equal((await second.runs.create(newRun())).number, 2, 'the counter survived');
      const third = await h.open(t, url);
      assert.equal((await third.runs.list()).length, 2, 'a second open of a migrated database works');
    });

    test('close waits for calls under way, is safe to repeat, and later calls reject clearly', async (t) => {
      const store = await h.fresh(t);
      const run = newRun();
      const creating = store.runs.create(run);
      const closing = store.close();
      assert.equal((await creating).id, run.id, 'the call under way completed');
      await closing;
      await store.close();
      await assert.rejects(store.runs.get(run.id), StoreClosedError);
      await assert.rejects(store.logs.append('x', []), /store is closed/);
      await assert.rejects(store.deliveries.enqueueNew('http', 1), StoreClosedError);
      await assert.rejects(store.runs.transition(run.id, [], 'running', 1), StoreClosedError);
    });
  });
}
