import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startDeliveryWorker, type DeliveryWorker } from '../src/events/delivery-worker.js';
import { httpSink } from '../src/events/sinks/http-sink.js';
import { openStore } from '../src/store/open-store.js';
import type { NewOutboxEvent, Store } from '../src/store/types.js';
import { startReceiver } from './events-test-server.js';
import { acceptedIds, assertInOrderPerRun, freePort, interleave, runEvents } from './events-support.js';
import { runCli } from './support/cli.js';

const HOUR = 3_600_000;
/** Attempts at most every 10 minutes of the fake clock, so a day is ~150 passes. */
const BACKOFF = { initialMs: 1000, factor: 2, maxMs: 10 * 60_000 };

/**
 * A real SQLite store, a real HTTP sink on a port where nothing listens yet, and a delivery
 * worker on a fake clock (`advance`): the worker's notion of time drives the retry window and
 * the backoff, while each pass really sends over HTTP.
 */
async function downSink(t: TestContext): Promise<{
  store: Store;
  db: string;
  port: number;
  worker: DeliveryWorker;
  advance(ms: number, step?: number): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-window-'));
  const db = join(dir, 'pilotage.db');
  const store = await openStore({ url: db });
  const port = await freePort();
  let clock = Date.now();
  const worker = startDeliveryWorker({
    deliveries: store.deliveries,
    sinks: [httpSink({ url: `http://127.0.0.1:${port}/events`, name: 'hook', timeoutMs: 2000 })],
    backoff: BACKOFF,
    pollMs: 3_600_000,
    now: () => clock,
  });
  t.after(async () => {
    await worker.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    store,
    db,
    port,
    worker,
    // one pass per step (`drain(0)` runs one pass and returns: every retry is after its deadline)
    async advance(ms, step = 10 * 60_000) {
      for (let passed = 0; passed < ms; passed += step) {
        clock += Math.min(step, ms - passed);
        await worker.drain(0);
      }
    },
  };
}

function ids(events: readonly NewOutboxEvent[]): string[] {
  return events.map((e) => e.id);
}

describe('a sink down for hours (real HTTP, fake clock for the retry window)', () => {
  test('down for 23 hours: nothing is lost or dead, only each run’s earliest event is retried, order kept', async (t) => {
    const s = await downSink(t);
    const a = runEvents('run-a', 1000);
    const b = runEvents('run-b', 1000);
    await s.store.outbox.append(interleave(a.slice(0, 3), b.slice(0, 2)));
    await s.advance(12 * HOUR);
    // the runs go on writing while the sink is down
    await s.store.outbox.append(interleave(a.slice(3), b.slice(2)));
    await s.advance(11 * HOUR);

    const rows = await s.store.deliveries.list({ sink: 'hook', limit: 100 });
    assert.equal(rows.length, 10);
    assert.ok(
      rows.every((d) => d.state === 'pending'),
      'nothing dead within the window',
    );
    const tried = rows.filter((d) => d.attempts > 0);
    assert.deepEqual(tried.map((d) => d.eventId).sort(), [a[0]!.id, b[0]!.id].sort(), 'only the heads were tried');
    for (const d of tried) {
      // tried, or (its sink's circuit open) failed unsent while another head was the probe
      assert.match(d.lastError ?? '', /ECONNREFUSED|not sent: the sink is unavailable/);
      // the backoff is capped: ~one attempt per 10 minutes for 23 hours
      assert.ok(d.attempts > 100, `${d.attempts} attempts`);
      assert.notEqual(d.firstFailedAt, null);
    }

    const receiver = await startReceiver(s.port);
    t.after(() => receiver.close());
    const seen = acceptedIds(receiver);
    await s.advance(20 * 60_000);
    assert.deepEqual(await s.worker.drain(0), { pending: 0 });
    assert.equal(seen.accepted.length, 10, 'every event arrived once the sink was back');
    assertInOrderPerRun(seen.accepted, interleave(a, b));
    const after = await s.store.deliveries.list({ sink: 'hook', limit: 100 });
    assert.ok(after.every((d) => d.state === 'delivered'));
  });

  test('past the 24-hour window a run’s events are dead letters together; `events redeliver` sends them in order', async (t) => {
    const s = await downSink(t);
    const a = runEvents('run-a', 1000);
    const b = runEvents('run-b', 1000);
    await s.store.outbox.append(interleave(a.slice(0, 4), b));
    await s.advance(23 * HOUR + 50 * 60_000);
    assert.equal((await s.store.deliveries.list({ sink: 'hook', state: 'dead' })).length, 0, 'not yet');
    await s.advance(20 * 60_000);

    const dead = await s.store.deliveries.list({ sink: 'hook', state: 'dead', limit: 100 });
    assert.equal(dead.length, 9, 'every event of both runs');
    for (const head of [a[0]!, b[0]!]) {
      const row = dead.find((d) => d.eventId === head.id)!;
      assert.match(row.lastError ?? '', /ECONNREFUSED|not sent: the sink is unavailable/);
      assert.ok(row.attempts > 100);
    }
    const heldBack = dead.filter((d) => d.eventId !== a[0]!.id && d.eventId !== b[0]!.id);
    assert.ok(
      heldBack.every((d) => d.attempts === 0 && /held back: an earlier event of its run/.test(d.lastError ?? '')),
      JSON.stringify(heldBack),
    );
    // An event the run writes after its earlier one died is held back too, never sent ahead of it.
    await s.store.outbox.append([a[4]!]);
    assert.deepEqual(await s.worker.drain(0), { pending: 0 });
    const late = (await s.store.deliveries.list({ sink: 'hook', eventId: a[4]!.id }))[0]!;
    assert.equal(late.state, 'dead');
    assert.equal(late.attempts, 0);

    const receiver = await startReceiver(s.port);
    t.after(() => receiver.close());
    const seen = acceptedIds(receiver);
    // Redeliver run-a whole, and for run-b only its third event: its two earlier ones come back
    // with it, the two after it stay dead.
    const env = { PILOTAGE_DB: s.db };
    const one = await runCli(['events', 'redeliver', '--run', 'run-a', '--sink', 'hook'], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /5 deliveries queued again/);
    const two = await runCli(['events', 'redeliver', '--event', b[2]!.id, '--json'], { env });
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(JSON.parse(two.stdout), { redelivered: 3 });
    await s.advance(10 * 60_000);
    assert.deepEqual(await s.worker.drain(0), { pending: 0 });
    assert.deepEqual(
      seen.accepted.filter((id) => ids(a).includes(id)),
      ids(a),
    );
    assert.deepEqual(
      seen.accepted.filter((id) => ids(b).includes(id)),
      ids(b.slice(0, 3)),
    );
    const stillDead = await s.store.deliveries.list({ sink: 'hook', state: 'dead' });
    assert.deepEqual(stillDead.map((d) => d.eventId).sort(), ids(b.slice(3)).sort());
  });
});
