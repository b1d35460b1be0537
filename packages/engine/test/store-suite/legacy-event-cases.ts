import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startDeliveryWorker } from '../../src/events/delivery-worker.js';
import type { Sink } from '../../src/events/sinks/sink.js';
import type { NewOutboxEvent, OutboxRecord, Store } from '../../src/store/types.js';
import type { StoreHarness } from './harness.js';
import { newEvent, newRun } from './fixtures.js';

/**
 * Write `events` as a replica of a version before migration 0070 (`run_seq`) does during a
 * rolling upgrade: a plain outbox insert, without a run number and without the run's counter.
 */
async function writeAsOlderReplica(
  t: TestContext,
  h: StoreHarness,
  url: string,
  events: readonly NewOutboxEvent[],
): Promise<void> {
  const insert = 'insert into outbox (id, run_id, type, payload, created_at) values ';
  if (h.dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    t.after(() => client.end());
    for (const e of events) {
      await client.query(`${insert}($1, $2, $3, $4, $5)`, [
        e.id,
        e.runId,
        e.type,
        JSON.stringify(e.payload),
        e.createdAt,
      ]);
    }
    return;
  }
  // one short write on the file while the store is idle, then closed (a second handle must not stay open)
  const db = new Database(url);
  try {
    const statement = db.prepare(`${insert}(?, ?, ?, ?, ?)`);
    for (const e of events) statement.run(e.id, e.runId, e.type, JSON.stringify(e.payload), e.createdAt);
  } finally {
    db.close();
  }
}

/** A sink that keeps what it is sent, in order, and fails the events `failing` names. */
function recordingSink(failing: Set<string>): Sink & { readonly got: OutboxRecord[] } {
  const got: OutboxRecord[] = [];
  return {
    name: 'hook',
    got,
    accepts: () => true,
    send: (event) =>
      failing.has(event.type) ? Promise.reject(new Error('503')) : Promise.resolve(void got.push(event)),
  };
}

async function deliver(store: Store, sink: Sink): Promise<void> {
  const worker = startDeliveryWorker({
    deliveries: store.deliveries,
    sinks: [sink],
    pollMs: 20,
    maxAttempts: 1,
  });
  try {
    await worker.drain(30_000);
  } finally {
    await worker.stop();
  }
}

/**
 * Events that replicas of an older version (before `run_seq`, migration 0070) write during a
 * rolling upgrade have no run number. They are delivered in outbox order (`seq`) among their run's
 * events, as before 0070; nothing waits for them by number, so they never hold a run's later
 * events back for good; a failing one holds back the events after it like any other.
 */
export function legacyEventCases(h: StoreHarness): void {
  describe('events written by replicas of an older version (no run_seq)', () => {
    test('they are delivered in outbox order with the numbered events of their run', async (t) => {
      const url = await h.freshUrl();
      const store = await h.open(t, url);
      const mixed = await store.runs.create(newRun());
      const old = await store.runs.create(newRun());
      const [e1, e2, e3, e4] = ['e1', 'e2', 'e3', 'e4'].map((type) => newEvent(mixed.id, type));
      const [o1, o2, o3] = ['o1', 'o2', 'o3'].map((type) => newEvent(old.id, type));
      await store.outbox.append([e1!]);
      await writeAsOlderReplica(t, h, url, [e2!, o1!, e3!, o2!]);
      await store.outbox.append([e4!]);
      // a run an older replica began, carried on by a newer one: its first number is 1
      await store.outbox.append([o3!]);
      const listed = await store.outbox.listByRun(mixed.id);
      assert.deepEqual(
        listed.map((e) => [e.type, e.runSeq]),
        [
          ['e1', 1],
          ['e2', null],
          ['e3', null],
          ['e4', 2],
        ],
        "a run's events are listed in the order they were written, numbered or not",
      );
      const sink = recordingSink(new Set());
      await deliver(store, sink);
      assert.deepEqual(
        sink.got.filter((e) => e.runId === mixed.id).map((e) => e.type),
        ['e1', 'e2', 'e3', 'e4'],
      );
      assert.deepEqual(
        sink.got.filter((e) => e.runId === old.id).map((e) => e.type),
        ['o1', 'o2', 'o3'],
      );
      assert.deepEqual(
        (await store.outbox.listByRun(old.id)).map((e) => [e.type, e.runSeq]),
        [
          ['o1', null],
          ['o2', null],
          ['o3', 1],
        ],
      );
      assert.equal((await store.deliveries.listPending('hook', 10)).length, 0);
    });

    test('a dead letter among them holds back its run’s later events until redelivered, then all go in order', async (t) => {
      const url = await h.freshUrl();
      const store = await h.open(t, url);
      const run = await store.runs.create(newRun());
      const [e1, e2, e3] = ['e1', 'e2', 'e3'].map((type) => newEvent(run.id, type));
      await store.outbox.append([e1!]);
      await writeAsOlderReplica(t, h, url, [e2!]);
      await store.outbox.append([e3!]);
      const failing = new Set(['e2']);
      const sink = recordingSink(failing);
      await deliver(store, sink);
      assert.deepEqual(
        sink.got.map((e) => e.type),
        ['e1'],
        'e3 was not sent past the failed e2',
      );
      const dead = await store.deliveries.list({ state: 'dead' });
      assert.equal(dead.length, 2, 'e2 a dead letter, e3 held back behind it');
      failing.clear();
      assert.equal(await store.deliveries.redeliver({ runId: run.id }, Date.now()), 2);
      await deliver(store, sink);
      assert.deepEqual(
        sink.got.map((e) => e.type),
        ['e1', 'e2', 'e3'],
      );
    });
  });
}
