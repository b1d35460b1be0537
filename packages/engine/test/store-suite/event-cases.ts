import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoreHarness } from './harness.js';
import { newEvent, newRun } from './fixtures.js';

/** OutboxStore and DeliveryStore. */
export function eventCases(h: StoreHarness): void {
  describe('outbox and deliveries', () => {
    test('outbox: global order, listAfter pages, listByRun', async (t) => {
      const store = await h.fresh(t);
      const run = newRun();
      const created = newEvent(run.id);
      await store.runs.create(run, [created]);
      const loose = newEvent(null, 'dev.cdevents.artifact.published.0.2.0');
      const mine = [newEvent(run.id, 'a'), newEvent(run.id, 'b')];
      await store.outbox.append([loose, ...mine]);
      await store.outbox.append([]);
      const all = await store.outbox.listAfter(0, 100);
      assert.deepEqual(
        all.map((e) => e.id),
        [created.id, loose.id, mine[0]?.id, mine[1]?.id],
      );
      assert.ok(
        all.every((e, i) => i === 0 || e.seq > (all[i - 1]?.seq ?? Infinity)),
        'seq increases',
      );
      assert.deepEqual(all[1], { ...loose, seq: all[1]?.seq, runSeq: null });
      assert.deepEqual(
        all.map((e) => e.runSeq),
        [1, null, 2, 3],
        "a run's events are numbered 1, 2, 3 in order",
      );
      const first = await store.outbox.listAfter(0, 2);
      const rest = await store.outbox.listAfter(first.at(-1)?.seq ?? 0, 10);
      assert.deepEqual([...first, ...rest], all);
      assert.deepEqual(
        (await store.outbox.listByRun(run.id)).map((e) => e.type),
        [created.type, 'a', 'b'],
      );
      await assert.rejects(store.outbox.append([{ ...loose }]), 'event ids are unique');
    });

    test('deliveries: enqueue once per sink, pending in order, delivered, failed, dead, redeliver', async (t) => {
      const store = await h.fresh(t);
      const run = newRun();
      const events = [newEvent(run.id, 'e1'), newEvent(run.id, 'e2'), newEvent(null, 'e3')];
      await store.runs.create(run, events.slice(0, 2));
      await store.outbox.append(events.slice(2));
      assert.equal(await store.deliveries.enqueueNew('http', 1000), 3);
      assert.equal(await store.deliveries.enqueueNew('http', 1001), 0);
      assert.equal(await store.deliveries.enqueueNew('kafka', 1002), 3);

      const pending = await store.deliveries.listPending('http', 10);
      assert.deepEqual(
        pending.map((d) => d.event.type),
        ['e1', 'e2', 'e3'],
      );
      const [d1, d2, d3] = pending;
      assert.ok(d1 !== undefined && d2 !== undefined && d3 !== undefined);
      assert.deepEqual(
        { ...d1, event: undefined },
        {
          eventSeq: d1.event.seq,
          eventId: events[0]?.id,
          runId: run.id,
          type: 'e1',
          sink: 'http',
          state: 'pending',
          attempts: 0,
          lastError: null,
          nextAttemptAt: 1000,
          deliveredAt: null,
          firstFailedAt: null,
          previous: null,
          event: undefined,
        },
      );
      assert.deepEqual(d1.event.payload, events[0]?.payload);
      assert.deepEqual((await store.deliveries.listPending('http', 2)).length, 2);

      await store.deliveries.markDelivered('http', d1.eventSeq, 2000);
      await store.deliveries.markFailed('http', d2.eventSeq, 'HTTP 503', 5000, false);
      await store.deliveries.markFailed('http', d3.eventSeq, 'HTTP 400', 5000, true);
      const after = await store.deliveries.listPending('http', 10);
      assert.deepEqual(
        after.map((d) => [d.type, d.attempts, d.lastError, d.nextAttemptAt]),
        [['e2', 1, 'HTTP 503', 5000]],
      );
      await store.deliveries.markFailed('http', d2.eventSeq, 'HTTP 503 again', 9000, true);
      assert.deepEqual(await store.deliveries.listPending('http', 10), []);
      assert.equal((await store.deliveries.listPending('kafka', 10)).length, 3, 'other sinks untouched');

      const http = await store.deliveries.list({ sink: 'http' });
      assert.deepEqual(
        http.map((d) => [d.type, d.state, d.attempts]),
        [
          ['e3', 'dead', 1],
          ['e2', 'dead', 2],
          ['e1', 'delivered', 1],
        ],
      );
      assert.equal(http[2]?.deliveredAt, 2000);
      assert.equal((await store.deliveries.list()).length, 6);
      assert.equal((await store.deliveries.list({ limit: 4 })).length, 4);
      assert.deepEqual(
        (await store.deliveries.list({ state: 'dead' })).map((d) => d.type),
        ['e3', 'e2'],
      );
      assert.deepEqual(
        (await store.deliveries.list({ runId: run.id, sink: 'kafka' })).map((d) => d.type),
        ['e2', 'e1'],
      );
      assert.deepEqual(
        (await store.deliveries.list({ eventId: events[2]?.id ?? '' })).map((d) => d.sink),
        ['http', 'kafka'],
      );

      assert.equal(await store.deliveries.redeliver({ state: 'pending' }, 7000), 0);
      assert.equal(await store.deliveries.redeliver({ sink: 'http', runId: run.id }, 7000), 1);
      assert.equal(await store.deliveries.redeliver({ sink: 'http', runId: run.id }, 7000), 0);
      const again = await store.deliveries.listPending('http', 10);
      assert.deepEqual(
        again.map((d) => [d.type, d.state, d.attempts, d.nextAttemptAt, d.lastError]),
        [['e2', 'pending', 0, 7000, 'HTTP 503 again']],
      );
      assert.equal(await store.deliveries.redeliver({ eventId: events[2]?.id ?? '' }, 8000), 1);
      assert.equal(await store.deliveries.redeliver({}, 8000), 0, 'nothing dead is left');

      await store.outbox.append([newEvent(null, 'e4')]);
      assert.equal(await store.deliveries.enqueueNew('http', 9000), 1, 'only the new event');
    });
  });
}
