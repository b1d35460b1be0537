import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test, type TestContext } from 'node:test';
import { startDeliveryWorker, type DeliveryWorker } from '../src/events/delivery-worker.js';
import { localLeaseIdentity } from '../src/events/sink-lease.js';
import { httpSink } from '../src/events/sinks/http-sink.js';
import type { NewOutboxEvent, SinkLeaseStore, Store } from '../src/store/types.js';
import { acceptedIds, assertInOrderPerRun, interleave, runEvents, waitFor } from './events-support.js';
import { startReceiver, type TestReceiver } from './events-test-server.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

const FAST = { backoff: { initialMs: 20, factor: 2, maxMs: 150 }, pollMs: 30 };

/** `count` runs of five events each, interleaved as concurrent runs write them. */
function manyRuns(prefix: string, count: number): NewOutboxEvent[] {
  const t0 = Date.now();
  return interleave(...Array.from({ length: count }, (_, i) => runEvents(`${prefix}-${i}`, t0 + i)));
}

/** Append events in small batches, as engines do, from both replicas' handles. */
async function write(stores: readonly Store[], events: readonly NewOutboxEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 3) {
    await stores[(i / 3) % stores.length]!.outbox.append(events.slice(i, i + 3));
  }
}

/** A lease store whose `release` does nothing: a replica that dies keeps its lease until it expires. */
function crashing(store: SinkLeaseStore): SinkLeaseStore {
  return {
    acquire: (...args) => store.acquire(...args),
    release: () => Promise.resolve(),
    holder: (sink) => store.holder(sink),
  };
}

function leaseCases(h: StoreHarness): void {
  let receiver: TestReceiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  /** Two replicas' stores on one database, and their workers (stopped at the end). */
  async function replicas(t: TestContext) {
    const url = await h.freshUrl();
    const stores = [await h.open(t, url), await h.open(t, url)] as const;
    const workers: DeliveryWorker[] = [];
    // Stop workers before the stores close (t.after hooks run in reverse order).
    t.after(async () => {
      for (const w of workers) await w.stop();
    });
    const sink = httpSink({ url: receiver.url, name: 'shared', timeoutMs: 2000 });
    const start = (store: Store, owner: string, leases: SinkLeaseStore = store.sinkLeases, ttlMs = 10_000) => {
      const worker = startDeliveryWorker({
        deliveries: store.deliveries,
        sinks: [sink],
        maxAttempts: 1000,
        lease: { store: leases, owner, ttlMs },
        ...FAST,
      });
      workers.push(worker);
      return worker;
    };
    return { stores, start };
  }

  test('two workers on one store: one delivers, every event arrives once, in order per run', async (t) => {
    const { stores, start } = await replicas(t);
    const seen = acceptedIds(receiver);
    const a = start(stores[0], 'replica-a');
    const b = start(stores[1], 'replica-b');
    const events = manyRuns('pair', 20);
    await write(stores, events);
    a.kick();
    b.kick();
    await waitFor('every event delivered', () => seen.accepted.length === events.length, 20_000);
    assert.equal(seen.duplicates, 0, 'only the lease holder sent');
    assert.equal(receiver.requests.length, events.length);
    assertInOrderPerRun(seen.accepted, events);
    const holder = await stores[0].sinkLeases.holder('shared');
    assert.ok(holder?.owner === 'replica-a' || holder?.owner === 'replica-b', JSON.stringify(holder));
    // drain() on the replica that does not hold the lease waits for the other to finish.
    assert.deepEqual(await a.drain(5000), { pending: 0 });
    assert.deepEqual(await b.drain(5000), { pending: 0 });
  });

  test('the holder stops: the other takes over at once and delivers the rest, still in order', async (t) => {
    const { stores, start } = await replicas(t);
    const seen = acceptedIds(receiver);
    const workers = { 'replica-a': start(stores[0], 'replica-a'), 'replica-b': start(stores[1], 'replica-b') };
    const first = manyRuns('handover', 8);
    await write(stores, first);
    await waitFor('first batch delivered', () => seen.accepted.length === first.length, 20_000);
    const holder = (await stores[0].sinkLeases.holder('shared'))!.owner as keyof typeof workers;
    const other = holder === 'replica-a' ? 'replica-b' : 'replica-a';
    await workers[holder].stop();
    // released on stop: free, or already taken by the other, which polls (never still the stopped one)
    const after = await stores[0].sinkLeases.holder('shared');
    assert.ok(after === undefined || after.owner === other, `released on stop, held by ${after?.owner}`);
    const second = manyRuns('handover-2', 8);
    await write(stores, second);
    await waitFor('second batch delivered', () => seen.accepted.length === first.length + second.length, 20_000);
    assert.equal((await stores[1].sinkLeases.holder('shared'))?.owner, other);
    assert.equal(seen.duplicates, 0);
    assertInOrderPerRun(seen.accepted, [...first, ...second]);
  });

  test('a holder that dies without releasing is replaced once its lease expires; nothing is lost', async (t) => {
    const { stores, start } = await replicas(t);
    const seen = acceptedIds(receiver);
    // The dying replica starts alone, so it is the holder; its lease lasts 600 ms.
    const dying = start(stores[0], 'dying', crashing(stores[0].sinkLeases), 600);
    const first = manyRuns('crash', 4);
    await write(stores, first);
    await waitFor('first batch delivered', () => seen.accepted.length === first.length, 20_000);
    assert.equal((await stores[0].sinkLeases.holder('shared'))?.owner, 'dying');
    await dying.stop();
    const survivor = start(stores[1], 'survivor', stores[1].sinkLeases, 600);
    const second = manyRuns('crash-2', 4);
    await write(stores, second);
    survivor.kick();
    await waitFor('second batch delivered', () => seen.accepted.length === first.length + second.length, 20_000);
    assert.equal((await stores[1].sinkLeases.holder('shared'))?.owner, 'survivor');
    assertInOrderPerRun(seen.accepted, [...first, ...second]);
  });
}

function onDialect(name: string, h: StoreHarness): void {
  describe(name, { concurrency: false }, () => {
    before(() => h.setup());
    after(() => h.teardown());
    leaseCases(h);
  });
}

describe('localLeaseIdentity', () => {
  test('owners are unique per worker; a dead process of the same engine is gone, others are not', async () => {
    const a = localLeaseIdentity('pilotage-abc');
    const b = localLeaseIdentity('pilotage-abc');
    assert.notEqual(a.owner, b.owner);
    assert.match(a.owner, new RegExp(`^pilotage-abc/${process.pid}/[0-9a-f]{12}$`));
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.once('exit', resolve));
    const deadPid = child.pid!;
    assert.equal(a.isGone(`pilotage-abc/${deadPid}/0123456789ab`), true, 'exited process of this engine');
    assert.equal(a.isGone(`pilotage-other/${deadPid}/0123456789ab`), false, 'another engine (host or store)');
    assert.equal(a.isGone(b.owner), false, 'this very process');
    assert.equal(a.isGone(`pilotage-abc/${process.ppid}/0123456789ab`), false, 'a live process');
    assert.equal(a.isGone('replica-a'), false, 'not one of ours');
    const fake = localLeaseIdentity('pilotage-abc', (pid) => pid !== 4242);
    assert.equal(fake.isGone('pilotage-abc/4242/x'), true);
  });
});

await onEachDialect('delivery leases', onDialect, {
  sqlite: '(two handles on one file)',
  postgres: '(two replicas on one database)',
});
