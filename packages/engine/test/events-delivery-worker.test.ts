import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open-store.js';
import type { OutboxRecord, Store } from '../src/store/types.js';
import { startDeliveryWorker, type DeliveryWorker } from '../src/events/delivery-worker.js';
import { httpSink } from '../src/events/sinks/http-sink.js';
import type { Sink } from '../src/events/sinks/sink.js';
import { startReceiver, type TestReceiver } from './events-test-server.js';
import { acceptedIds, assertInOrderPerRun, freePort, interleave, runEvents, runOf, waitFor } from './events-support.js';

const FAST = { backoff: { initialMs: 20, factor: 2, maxMs: 150 }, pollMs: 40 };

interface Ctx {
  store: Store;
  dir: string;
  workers: DeliveryWorker[];
  receivers: TestReceiver[];
}

async function withStore(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-delivery-'));
  const ctx: Ctx = { store: await openStore({ url: join(dir, 'pilotage.db') }), dir, workers: [], receivers: [] };
  try {
    await fn(ctx);
  } finally {
    for (const w of ctx.workers) await w.stop();
    for (const r of ctx.receivers) await r.close();
    await ctx.store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('delivery worker on a real SQLite store and a real HTTP sink', () => {
  test('a sink that is down, then failing, then back gets every event, in order per run', async () => {
    await withStore(async (ctx) => {
      const port = await freePort();
      const sink = httpSink({ url: `http://127.0.0.1:${port}/events`, name: 'hook', timeoutMs: 2000 });
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [sink],
        maxAttempts: 1000,
        ...FAST,
      });
      ctx.workers.push(worker);
      const t0 = Date.now();
      const first = interleave(runEvents('run-a', t0), runEvents('run-b', t0), runEvents('run-c', t0));
      await ctx.store.outbox.append(first.slice(0, 7));
      worker.kick();
      await ctx.store.outbox.append(first.slice(7));
      worker.kick();

      // Nothing listens: the first event of each run is tried again and again; the others wait.
      await waitFor('repeated failures', async () => {
        const failed = await ctx.store.deliveries.list({ sink: 'hook', limit: 100 });
        return failed.filter((d) => d.attempts >= 2).length === 3;
      });
      const rows = await ctx.store.deliveries.list({ sink: 'hook', limit: 100 });
      assert.equal(rows.length, 15);
      const tried = rows.filter((d) => d.attempts > 0);
      assert.deepEqual(
        tried.map((d) => d.eventId).sort(),
        ['run-a', 'run-b', 'run-c'].map((r) => first.find((e) => e.runId === r)!.id).sort(),
        'only the first event of each run is attempted while it fails',
      );
      assert.ok(
        // sent and refused, or (the sink's circuit open after 5 refusals) failed unsent
        tried.every(
          (d) => d.state === 'pending' && /ECONNREFUSED|not sent: the sink is unavailable/.test(d.lastError ?? ''),
        ),
        JSON.stringify(tried),
      );

      // It comes back, answering 503 to its first 6 requests.
      const receiver = await startReceiver(port);
      ctx.receivers.push(receiver);
      const seen = acceptedIds(receiver);
      let refusals = 6;
      seen.install(() => (refusals-- > 0 ? 503 : 200));
      const second = interleave(runEvents('run-d', t0 + 10), runEvents('run-a2', t0 + 10));
      await ctx.store.outbox.append(second);
      worker.kick();

      assert.deepEqual(await worker.drain(15_000), { pending: 0 });
      const all = [...first, ...second];
      assert.equal(seen.accepted.length, all.length, 'every event arrived');
      assert.equal(seen.duplicates, 0);
      assertInOrderPerRun(seen.accepted, all);
      assert.ok(receiver.requests.length >= all.length + 6);
      const final = await ctx.store.deliveries.list({ sink: 'hook', limit: 100 });
      assert.ok(
        final.every((d) => d.state === 'delivered' && d.deliveredAt !== null),
        'all delivered',
      );
      // Receivers see valid CDEvents whose run we can tell.
      assert.deepEqual(new Set(receiver.requests.map(runOf)), new Set(['run-a', 'run-b', 'run-c', 'run-d', 'run-a2']));
    });
  });

  test('a run whose event keeps failing holds back only its own later events', async () => {
    await withStore(async (ctx) => {
      const receiver = await startReceiver();
      ctx.receivers.push(receiver);
      const seen = acceptedIds(receiver);
      let blockA = true;
      seen.install((req) => (blockA && runOf(req) === 'run-a' ? 503 : 200));
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [httpSink({ url: receiver.url, name: 'hook' })],
        ...FAST,
      });
      ctx.workers.push(worker);
      const a = runEvents('run-a', 1000);
      const b = runEvents('run-b', 1000);
      await ctx.store.outbox.append(interleave(a, b));
      worker.kick();
      await waitFor('run-b delivered', () => b.every((e) => seen.accepted.includes(e.id)));
      assert.ok(
        a.every((e) => !seen.accepted.includes(e.id)),
        'nothing of run-a got through',
      );
      const rowsA = await ctx.store.deliveries.list({ sink: 'hook', runId: 'run-a' });
      const later = rowsA.filter((d) => d.eventId !== a[0]!.id);
      assert.ok(
        later.every((d) => d.attempts === 0 && d.state === 'pending'),
        'later run-a events were never sent',
      );
      assert.match(rowsA.find((d) => d.eventId === a[0]!.id)!.lastError ?? '', /503 Service Unavailable: not now/);
      blockA = false;
      assert.deepEqual(await worker.drain(10_000), { pending: 0 });
      assertInOrderPerRun(seen.accepted, interleave(a, b));
    });
  });

  test('after maxAttempts a delivery is dead and holds back its run; redeliver sends them again in order', async () => {
    await withStore(async (ctx) => {
      const receiver = await startReceiver();
      ctx.receivers.push(receiver);
      const seen = acceptedIds(receiver);
      seen.install(() => 503);
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [httpSink({ url: receiver.url, name: 'hook' })],
        maxAttempts: 3,
        ...FAST,
      });
      ctx.workers.push(worker);
      const events = runEvents('run-x', 1000).slice(0, 3);
      await ctx.store.outbox.append(events);
      worker.kick();
      assert.deepEqual(await worker.drain(10_000), { pending: 0 }, 'dead deliveries are not pending');
      const dead = await ctx.store.deliveries.list({ sink: 'hook', state: 'dead' });
      assert.equal(dead.length, 3);
      const head = dead.find((d) => d.eventId === events[0]!.id)!;
      assert.ok(head.attempts === 3 && /503/.test(head.lastError ?? ''), JSON.stringify(head));
      assert.ok(
        dead.every((d) => d === head || (d.attempts === 0 && /held back/.test(d.lastError ?? ''))),
        'the later events were never sent ahead of it',
      );
      assert.equal(receiver.requests.length, 3, 'the first event × 3 attempts');
      assert.equal(seen.accepted.length, 0);

      seen.install(() => 200);
      assert.equal(await ctx.store.deliveries.redeliver({ sink: 'hook', runId: 'run-x' }, Date.now()), 3);
      worker.kick();
      assert.deepEqual(await worker.drain(10_000), { pending: 0 });
      assert.deepEqual(
        seen.accepted,
        events.map((e) => e.id),
      );
      const after = await ctx.store.deliveries.list({ sink: 'hook' });
      assert.ok(after.every((d) => d.state === 'delivered'));
    });
  });

  test('pending events survive a restart and are delivered by the next worker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-delivery-restart-'));
    const url = join(dir, 'pilotage.db');
    const port = await freePort();
    const events = interleave(runEvents('run-r1', 5), runEvents('run-r2', 5));
    let receiver: TestReceiver | undefined;
    try {
      {
        const store = await openStore({ url });
        const worker = startDeliveryWorker({
          deliveries: store.deliveries,
          sinks: [httpSink({ url: `http://127.0.0.1:${port}/e`, name: 'hook' })],
          ...FAST,
        });
        await store.outbox.append(events);
        worker.kick();
        await waitFor('a failed attempt', async () =>
          (await store.deliveries.list({ sink: 'hook' })).some((d) => d.attempts > 0),
        );
        await worker.stop();
        await store.close();
      }
      receiver = await startReceiver(port);
      const seen = acceptedIds(receiver);
      const store = await openStore({ url });
      try {
        const worker = startDeliveryWorker({
          deliveries: store.deliveries,
          sinks: [httpSink({ url: `http://127.0.0.1:${port}/e`, name: 'hook' })],
          ...FAST,
        });
        try {
          assert.deepEqual(await worker.drain(10_000), { pending: 0 });
        } finally {
          await worker.stop();
        }
      } finally {
        await store.close();
      }
      assert.equal(seen.accepted.length, events.length);
      assertInOrderPerRun(seen.accepted, events);
    } finally {
      await receiver?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('type filters, independent sinks, events without a run', async () => {
    await withStore(async (ctx) => {
      const receiver = await startReceiver();
      ctx.receivers.push(receiver);
      const seen = acceptedIds(receiver);
      const got: OutboxRecord[] = [];
      const memory: Sink = { name: 'memory', accepts: () => true, send: async (e) => void got.push(e) };
      let downCalls = 0;
      const down: Sink = {
        name: 'down',
        accepts: () => true,
        send: async () => {
          downCalls++;
          throw new Error('always down');
        },
      };
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [
          httpSink({ url: receiver.url, name: 'runs-only', types: ['dev.cdevents.pipelinerun.*'] }),
          memory,
          down,
        ],
        ...FAST,
      });
      ctx.workers.push(worker);
      const events = runEvents('run-f', 1);
      const loose = { ...events[0]!, id: 'no-run-event', runId: null };
      await ctx.store.outbox.append([...events, loose]);
      worker.kick();
      await waitFor('memory sink has all', () => got.length === 6);
      await waitFor(
        'filtered sink done',
        async () => (await ctx.store.deliveries.list({ sink: 'runs-only', state: 'pending' })).length === 0,
      );
      // Order holds within a run; a run-less event is independent of it.
      assert.deepEqual(
        got.filter((e) => e.runId === 'run-f').map((e) => e.id),
        events.map((e) => e.id),
      );
      assert.ok(got.some((e) => e.id === 'no-run-event' && e.runId === null));
      assert.deepEqual(
        receiver.requests.map((r) => String(r.headers['ce-type'])).sort(),
        ['finished', 'queued', 'queued', 'started'].map((p) => `dev.cdevents.pipelinerun.${p}.0.3.0`),
        'task-run events filtered out of runs-only',
      );
      assert.equal(
        seen.accepted.length,
        3,
        'the run-less copy has the same ce-id as queued: deduplicated by the receiver',
      );
      const filtered = await ctx.store.deliveries.list({ sink: 'runs-only', runId: 'run-f' });
      assert.ok(filtered.every((d) => d.state === 'delivered'));
      assert.ok(downCalls >= 2, 'the failing sink was tried (the run event and the run-less one)');
      const downRows = await ctx.store.deliveries.list({ sink: 'down' });
      assert.equal(
        downRows.filter((d) => d.attempts > 0).length,
        2,
        'its first run event and the run-less event, nothing else',
      );
    });
  });

  test('kick delivers at once; stop waits for the send in flight and ends the polling', async () => {
    await withStore(async (ctx) => {
      const receiver = await startReceiver();
      ctx.receivers.push(receiver);
      acceptedIds(receiver);
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [httpSink({ url: receiver.url, name: 'hook', timeoutMs: 300 })],
        pollMs: 60_000,
      });
      const [e1, e2, e3] = runEvents('run-k', 1);
      await ctx.store.outbox.append([e1!]);
      const t = Date.now();
      worker.kick();
      await waitFor('kicked delivery', () => receiver.requests.length === 1, 2000);
      assert.ok(Date.now() - t < 1000, 'no wait for the 60 s poll');

      receiver.respond = () => 'hang';
      await ctx.store.outbox.append([e2!]);
      worker.kick();
      await waitFor('hanging request', () => receiver.requests.length === 2, 2000);
      const stopping = Date.now();
      await worker.stop();
      assert.ok(Date.now() - stopping >= 150, 'stop waited for the in-flight send to time out');
      const row = (await ctx.store.deliveries.list({ sink: 'hook', eventId: e2!.id }))[0]!;
      assert.equal(row.attempts, 1, 'its failure was recorded before stop resolved');
      assert.match(row.lastError ?? '', /no answer within 300 ms/);

      await ctx.store.outbox.append([e3!]);
      worker.kick();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(receiver.requests.length, 2, 'a stopped worker sends nothing');
      await worker.stop();
    });
  });

  test('drain gives up early when the next attempt falls after its deadline', async () => {
    await withStore(async (ctx) => {
      const port = await freePort();
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [httpSink({ url: `http://127.0.0.1:${port}/`, name: 'hook' })],
        backoff: { initialMs: 5000 },
      });
      ctx.workers.push(worker);
      await ctx.store.outbox.append(runEvents('run-d', 1).slice(0, 2));
      const t = Date.now();
      assert.deepEqual(await worker.drain(1000), { pending: 2 });
      assert.ok(Date.now() - t < 900, 'no point waiting for a retry after the deadline');
    });
  });

  test('drain goes on past a full batch: it returns only once the whole backlog is delivered', async () => {
    await withStore(async (ctx) => {
      const receiver = await startReceiver();
      ctx.receivers.push(receiver);
      const seen = acceptedIds(receiver);
      const events = interleave(...Array.from({ length: 6 }, (_, i) => runEvents(`run-${i}`, 1)));
      await ctx.store.outbox.append(events);
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [httpSink({ url: receiver.url, name: 'hook' })],
        batchSize: 4,
        ...FAST,
      });
      ctx.workers.push(worker);
      assert.deepEqual(await worker.drain(10_000), { pending: 0 });
      assert.equal(seen.accepted.length, events.length, 'all 30 events, 4 a batch');
      assertInOrderPerRun(seen.accepted, events);
    });
  });

  test('a sink answering 503: its circuit opens after 5 failures, one probe per wait; once back, all go at once', async () => {
    await withStore(async (ctx) => {
      const port = await freePort();
      const receiver = await startReceiver(port);
      ctx.receivers.push(receiver);
      const seen = acceptedIds(receiver);
      let requests = 0;
      let down = true;
      seen.install(() => {
        requests += 1;
        return down ? 503 : 200;
      });
      const changes: string[] = [];
      const worker = startDeliveryWorker({
        deliveries: ctx.store.deliveries,
        sinks: [httpSink({ url: `http://127.0.0.1:${port}/events`, name: 'hook', timeoutMs: 2000 })],
        backoff: { initialMs: 20, factor: 2, maxMs: 200 },
        pollMs: 40,
        onCircuit: (sink, state) => changes.push(`${sink} ${state}`),
      });
      ctx.workers.push(worker);
      // twenty runs, each one event: twenty heads, each retried on its own backoff without a circuit
      const t0 = Date.now();
      const events = Array.from({ length: 20 }, (_, i) => runEvents(`run-${i}`, t0)[0]!);
      await ctx.store.outbox.append(events);
      worker.kick();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // without it: ~20 heads x 1.5 s / 200 ms = ~150 requests; with it: 5, then a probe per wait
      assert.ok(requests >= 5 && requests <= 30, `${requests} requests to a sink answering 503`);
      assert.deepEqual(changes, ['hook opened']);
      const rows = await ctx.store.deliveries.list({ sink: 'hook', limit: 100 });
      assert.equal(rows.length, 20);
      assert.ok(
        rows.every((d) => d.state === 'pending' && d.attempts > 0),
        'every due head failed (sent or not), none lost or dead',
      );
      assert.ok(rows.some((d) => /not sent: the sink is unavailable/.test(d.lastError ?? '')));

      down = false;
      const back = Date.now();
      await waitFor('every event delivered', () => seen.accepted.length === 20, 5000);
      // within the longest wait (200 ms) and a poll or two, not each event's own backoff
      assert.ok(Date.now() - back < 1500, `${Date.now() - back} ms`);
      assert.deepEqual(changes, ['hook opened', 'hook closed']);
      assert.deepEqual([...seen.accepted].sort(), events.map((e) => e.id).sort());
    });
  });

  test('sink names must be unique', () => {
    const s: Sink = { name: 'same', accepts: () => true, send: async () => undefined };
    assert.throws(() => startDeliveryWorker({ deliveries: {} as Store['deliveries'], sinks: [s, s] }), /named "same"/);
  });
});
