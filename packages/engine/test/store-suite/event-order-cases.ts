import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { startDeliveryWorker } from '../../src/events/delivery-worker.js';
import type { Sink } from '../../src/events/sinks/sink.js';
import type { NewOutboxEvent, OutboxRecord, Store } from '../../src/store/types.js';
import type { StoreHarness } from './harness.js';
import { newEvent, newRun, newTaskRun } from './fixtures.js';

/** A sink that keeps what it is sent, in order. */
function recordingSink(): Sink & { readonly got: OutboxRecord[] } {
  const got: OutboxRecord[] = [];
  return { name: 'order', got, accepts: () => true, send: (event) => Promise.resolve(void got.push(event)) };
}

/** Deliver everything committed so far to `sink` and stop. */
async function deliver(store: Store, sink: Sink): Promise<void> {
  const worker = startDeliveryWorker({ deliveries: store.deliveries, sinks: [sink], pollMs: 20 });
  try {
    const { pending } = await worker.drain(30_000);
    assert.equal(pending, 0, 'everything committed was delivered');
  } finally {
    await worker.stop();
  }
}

/** A raw connection to a PostgreSQL store's database, closed when the test ends. */
async function rawClient(t: TestContext, url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.after(() => client.end());
  return client;
}

/** Until `check` holds (polling the database), at most 20 s. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Backends of other sessions waiting on a lock of kind `event` (pg_stat_activity.wait_event). */
async function waitingOn(client: pg.Client, event: string): Promise<number> {
  const result = await client.query<{ n: string }>(
    `select count(*) as n from pg_stat_activity
      where wait_event_type = 'Lock' and wait_event = $1 and pid <> pg_backend_pid()`,
    [event],
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** Per-run event order (issue 11): a run's outbox writes are numbered and delivered in commit order. */
export function eventOrderCases(h: StoreHarness): void {
  describe("a run's events: numbered in commit order and delivered in that order", () => {
    test('concurrent writers of one run get distinct, gapless numbers in commit order', async (t) => {
      const url = await h.freshUrl();
      const a = await h.open(t, url);
      // PostgreSQL: two replicas' pools. SQLite: one store (better-sqlite3 is synchronous, so two
      // connections of one process would wait for each other's write lock; processes are serialised
      // by the file's write lock anyway).
      const b = h.dialect === 'postgres' ? await h.open(t, url) : a;
      const run = await a.runs.create(newRun(), [newEvent(null)]);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        const store = i % 2 === 0 ? a : b;
        writes.push(store.outbox.append([newEvent(run.id, `e${i}.a`), newEvent(run.id, `e${i}.b`)]));
      }
      await Promise.all(writes);
      const events = await a.outbox.listByRun(run.id);
      assert.deepEqual(
        events.map((e) => e.runSeq),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      assert.ok(
        events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq),
        'run order is also outbox (seq) order',
      );
      for (let i = 0; i < 40; i += 2) {
        assert.equal(events[i + 1]!.type, events[i]!.type.replace('.a', '.b'), "one write's events stay together");
      }
      const sink = recordingSink();
      await deliver(b, sink);
      assert.deepEqual(
        sink.got.filter((e) => e.runId === run.id).map((e) => e.id),
        events.map((e) => e.id),
      );
    });

    test("a run's later event waits for an earlier one a bounded enqueue missed", async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const [e1, e2] = [newEvent(run.id, 'e1'), newEvent(run.id, 'e2')];
      await store.outbox.append([e1]);
      await store.outbox.append([e2]);
      const [s1] = await store.outbox.listByRun(run.id);
      assert.equal(await store.deliveries.enqueueNew('hook', 1000, s1!.seq), 1, 'only e2 is in the window');
      let pending = await store.deliveries.listPending('hook', 10);
      assert.deepEqual(
        pending.map((d) => [d.type, d.previous]),
        [['e2', 'missing']],
      );
      const sink = { ...recordingSink(), name: 'hook' };
      const worker = startDeliveryWorker({ deliveries: store.deliveries, sinks: [sink], pollMs: 20 });
      try {
        await worker.drain(30_000);
      } finally {
        await worker.stop();
      }
      assert.deepEqual(
        sink.got.map((e) => e.type),
        ['e1', 'e2'],
        'the worker found e1 and sent it first',
      );
      pending = await store.deliveries.listPending('hook', 10);
      assert.equal(pending.length, 0);
    });

    test('dead letters: the failure streak, held-back events, and redelivery of a run in order', async (t) => {
      const store = await h.fresh(t);
      const run = await store.runs.create(newRun());
      const events = [1, 2, 3, 4].map((i) => newEvent(run.id, `e${i}`));
      await store.outbox.append(events);
      await store.deliveries.enqueueNew('hook', 1000);
      const [d1, d2, d3, d4] = await store.deliveries.listPending('hook', 10);
      await store.deliveries.markFailed('hook', d1!.eventSeq, 'down', 2000, false, 1500);
      await store.deliveries.markFailed('hook', d1!.eventSeq, 'down', 3000, false, 2500);
      assert.equal((await store.deliveries.listPending('hook', 1))[0]!.firstFailedAt, 1500, 'the streak began');
      await store.deliveries.markFailed('hook', d1!.eventSeq, 'still down', 4000, true, 3500);
      assert.deepEqual(
        (await store.deliveries.listPending('hook', 10)).map((d) => [d.type, d.previous]),
        [
          ['e2', 'dead'],
          ['e3', 'pending'],
          ['e4', 'pending'],
        ],
      );
      for (const d of [d2!, d3!, d4!]) await store.deliveries.markHeldBack('hook', d.eventSeq, 'held back');
      const dead = await store.deliveries.list({ sink: 'hook', state: 'dead' });
      assert.deepEqual(
        dead.map((d) => [d.type, d.attempts, d.lastError]),
        [
          ['e4', 0, 'held back'],
          ['e3', 0, 'held back'],
          ['e2', 0, 'held back'],
          ['e1', 3, 'still down'],
        ],
      );
      // Redelivering e3 brings back e1 and e2 (before it), not e4.
      assert.equal(await store.deliveries.redeliver({ eventId: events[2]!.id }, 9000), 3);
      const back = await store.deliveries.listPending('hook', 10);
      assert.deepEqual(
        back.map((d) => [d.type, d.attempts, d.firstFailedAt, d.nextAttemptAt]),
        [
          ['e1', 0, null, 9000],
          ['e2', 0, null, 9000],
          ['e3', 0, null, 9000],
        ],
      );
      assert.deepEqual(
        (await store.deliveries.list({ sink: 'hook', state: 'dead' })).map((d) => d.type),
        ['e4'],
      );
    });

    if (h.dialect !== 'postgres') return;

    test('PostgreSQL: a transaction that numbered an event and commits late holds back the run’s next writer', async (t) => {
      const url = await h.freshUrl();
      const [a, b] = [await h.open(t, url), await h.open(t, url)];
      const raw = await rawClient(t, url);
      // Make inserts of type `slow` wait for a lock the test holds: the writer has taken its
      // numbers (and, before the fix, its seq) and not yet committed.
      await raw.query(`create function test_gate() returns trigger language plpgsql as $$
        begin perform pg_advisory_xact_lock_shared(4242); return null; end $$`);
      await raw.query(`create trigger test_gate after insert on outbox for each row
        when (new.type = 'slow') execute function test_gate()`);
      await raw.query('select pg_advisory_lock(4242)');
      const run = await a.runs.create(newRun());
      const [slow, fast] = [newEvent(run.id, 'slow'), newEvent(run.id, 'fast')];

      const first = a.outbox.append([slow]);
      await until('the slow writer to hold its numbers', async () => (await waitingOn(raw, 'advisory')) === 1);
      let secondDone = false;
      const second = b.outbox.append([fast]).then(() => void (secondDone = true));
      // The second writer must wait for the first (before the fix it committed at once with a
      // higher seq, and the worker sent it before the first existed).
      await until(
        'the second writer to wait or finish',
        async () => secondDone || (await waitingOn(raw, 'transactionid')) === 1,
      );
      assert.equal(secondDone, false, 'the second writer of the run waits for the first to commit');
      const sink = recordingSink();
      await deliver(a, sink);
      assert.equal(sink.got.length, 0, 'nothing of the run is delivered while its earliest write is open');

      await raw.query('select pg_advisory_unlock(4242)');
      await Promise.all([first, second]);
      await deliver(a, sink);
      assert.deepEqual(
        sink.got.map((e) => [e.type, e.runSeq]),
        [
          ['slow', 1],
          ['fast', 2],
        ],
      );
    });

    test('PostgreSQL: the writer that started first and commits last comes last in the run', async (t) => {
      const url = await h.freshUrl();
      const [a, b] = [await h.open(t, url), await h.open(t, url)];
      const raw = await rawClient(t, url);
      const run = await a.runs.create(newRun());
      const task = await a.taskRuns.create(newTaskRun(run.id));
      // Hold the task run's row so that its transition (started first) waits inside its transaction.
      await raw.query('begin');
      await raw.query('select id from task_runs where id = $1 for update', [task.id]);
      const started: NewOutboxEvent = newEvent(run.id, 'task.started');
      const moving = a.taskRuns.transition(task.id, ['pending'], 'running', 1, {}, [started]);
      await until('the transition to wait', async () => (await waitingOn(raw, 'transactionid')) === 1);
      const other = newEvent(run.id, 'other');
      await b.outbox.append([other]);
      const sink = recordingSink();
      await deliver(b, sink);
      await raw.query('commit');
      assert.equal(await moving, true);
      await deliver(b, sink);
      assert.deepEqual(
        sink.got.map((e) => [e.type, e.runSeq]),
        [
          ['other', 1],
          ['task.started', 2],
        ],
        'delivered in commit order, which is the run order',
      );
      assert.deepEqual(
        (await a.outbox.listByRun(run.id)).map((e) => e.type),
        ['other', 'task.started'],
      );
    });
  });
}
