import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { INBOX_RECLAIM_AFTER_MS, type InboxStore, type SinkLeaseStore, type Store } from '../src/store/types.js';
import { memoryInbox } from './events-support.js';
import { newEvent, newRun } from './store-suite/fixtures.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

/** Two handles on one database, as two engine replicas would have. */
type Pair<T> = (t: TestContext) => Promise<[T, T]>;

/** The `InboxStore` contract, for any implementation. */
function inboxCases(pair: Pair<InboxStore>): void {
  test('inbox: new once per (source, id); get and markProcessed', async (t) => {
    const [inbox] = await pair(t);
    assert.equal(await inbox.recordIfNew('/src', 'e1', 'dev.cdevents.build.started.0.3.0', 1000), true);
    assert.equal(await inbox.recordIfNew('/src', 'e1', 'dev.cdevents.build.started.0.3.0', 1001), false);
    assert.equal(await inbox.recordIfNew('/other', 'e1', 'x', 1002), true, 'same id, other source: new');
    assert.equal(await inbox.recordIfNew('/src', 'e2', 'x', 1003), true, 'same source, other id: new');
    assert.deepEqual(await inbox.get('/src', 'e1'), {
      source: '/src',
      id: 'e1',
      type: 'dev.cdevents.build.started.0.3.0',
      receivedAt: 1000,
      processedAt: null,
      runIds: [],
    });
    await inbox.markProcessed('/src', 'e1', ['r1', 'r2'], 1500);
    const processed = await inbox.get('/src', 'e1');
    assert.equal(processed?.processedAt, 1500);
    assert.deepEqual(processed?.runIds, ['r1', 'r2']);
    assert.equal(await inbox.get('/nope', 'e1'), undefined);
    await inbox.markProcessed('/nope', 'e1', ['r'], 1); // unknown pair: no-op
    assert.equal(await inbox.get('/nope', 'e1'), undefined);
    // Ambiguous pairs stay apart.
    assert.equal(await inbox.recordIfNew('a|b', 'c', 'x', 1), true);
    assert.equal(await inbox.recordIfNew('a', 'b|c', 'x', 1), true);
  });

  test('inbox: forget removes an unprocessed arrival (its retry is new), never a processed one', async (t) => {
    const [inbox, other] = await pair(t);
    assert.equal(await inbox.recordIfNew('/f', 'failed', 'x', 10), true);
    await other.forget('/f', 'failed');
    assert.equal(await inbox.get('/f', 'failed'), undefined);
    assert.equal(await inbox.recordIfNew('/f', 'failed', 'x', 11), true, 'the retry is handled');
    await inbox.markProcessed('/f', 'failed', ['r'], 12);
    await inbox.forget('/f', 'failed');
    assert.equal((await inbox.get('/f', 'failed'))?.processedAt, 12);
    await inbox.forget('/f', 'unknown');
  });

  test('inbox: an unprocessed arrival is reclaimed once after INBOX_RECLAIM_AFTER_MS, a processed one never', async (t) => {
    const [inbox] = await pair(t);
    const t0 = 1_000_000;
    assert.equal(await inbox.recordIfNew('/s', 'crashed', 'x', t0), true);
    assert.equal(await inbox.recordIfNew('/s', 'crashed', 'x', t0 + INBOX_RECLAIM_AFTER_MS - 1), false);
    assert.equal(await inbox.recordIfNew('/s', 'crashed', 'x', t0 + INBOX_RECLAIM_AFTER_MS), true, 'reclaimed');
    assert.equal(await inbox.recordIfNew('/s', 'crashed', 'x', t0 + INBOX_RECLAIM_AFTER_MS + 1), false, 'once');
    assert.equal((await inbox.get('/s', 'crashed'))?.receivedAt, t0 + INBOX_RECLAIM_AFTER_MS);

    assert.equal(await inbox.recordIfNew('/s', 'done', 'x', t0), true);
    await inbox.markProcessed('/s', 'done', [], t0 + 5);
    assert.equal(await inbox.recordIfNew('/s', 'done', 'x', t0 + 10 * INBOX_RECLAIM_AFTER_MS), false);
  });

  test('inbox: concurrent arrivals of one event through two handles: exactly one is new', async (t) => {
    const [a, b] = await pair(t);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).recordIfNew('/race', `e${round}`, 'x', 5000 + i)),
      );
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${JSON.stringify(results)}`);
    }
    const stale = 10_000;
    await a.recordIfNew('/race', 'stale', 'x', stale);
    const reclaims = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (i % 2 === 0 ? a : b).recordIfNew('/race', 'stale', 'x', stale + INBOX_RECLAIM_AFTER_MS + i),
      ),
    );
    assert.equal(reclaims.filter(Boolean).length, 1, `reclaims: ${JSON.stringify(reclaims)}`);
  });
}

/** The `SinkLeaseStore` contract. */
function leaseCases(pair: Pair<SinkLeaseStore>): void {
  test('leases: one holder at a time, renewal, expiry, release, replacing a gone owner', async (t) => {
    const [a, b] = await pair(t);
    assert.equal(await a.holder('s'), undefined);
    assert.equal(await a.acquire('s', 'A', 1000, 2000), true);
    assert.equal(await b.acquire('s', 'B', 1500, 2500), false, 'A holds it');
    assert.equal(await a.acquire('s', 'A', 1500, 2500), true, 'A renews');
    assert.deepEqual(await b.holder('s'), { owner: 'A', expiresAt: 2500 });
    assert.equal(await b.acquire('s', 'B', 2500, 3500), false, 'not yet expired at its last ms');
    assert.equal(await b.acquire('other', 'B', 2500, 3500), true, 'sinks are independent');
    assert.equal(await b.acquire('s', 'B', 2501, 3501), true, 'expired: B takes it');
    assert.equal(await a.acquire('s', 'A', 2600, 3600), false, 'A lost it');
    await a.release('s', 'A');
    assert.deepEqual(await a.holder('s'), { owner: 'B', expiresAt: 3501 }, "A's release leaves B's lease");
    assert.equal(await a.acquire('s', 'A', 2700, 3700, 'C'), false, 'replacing someone else than the holder');
    assert.equal(await a.acquire('s', 'A', 2700, 3700, 'B'), true, 'replacing the gone holder');
    await a.release('s', 'A');
    assert.equal(await a.holder('s'), undefined);
    assert.equal(await b.acquire('s', 'B', 2800, 3800), true, 'free after release');
  });

  test('leases: owners racing for a free sink through two handles: exactly one wins', async (t) => {
    const [a, b] = await pair(t);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).acquire(`race-${round}`, `W${i}`, 100, 10_000)),
      );
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${JSON.stringify(results)}`);
      const winner = `W${results.indexOf(true)}`;
      assert.equal((await a.holder(`race-${round}`))?.owner, winner);
    }
  });
}

/** The delivery store's filters for the API: type patterns, cursor, bounded enqueue. */
function deliveryCases(fresh: (t: TestContext) => Promise<Store>): void {
  test('deliveries: type patterns, cursor pages, redeliver by type, enqueue after a seq', async (t) => {
    const store = await fresh(t);
    const run = newRun();
    const types = [
      'dev.cdevents.pipelinerun.queued.0.3.0',
      'dev.cdevents.pipelinerun.started.0.3.0',
      'dev.cdevents.taskrun.finished.0.3.0',
      'dev.cdevents.pipelinerun_queued.0.3.0', // `_` must not act as a LIKE wildcard
      'dev.cdevents.artifact.published.0.3.0',
    ];
    const events = types.map((type) => newEvent(run.id, type));
    await store.runs.create(run, events);
    assert.equal(await store.deliveries.enqueueNew('a', 1), 5);
    assert.equal(await store.deliveries.enqueueNew('b', 1), 5);
    const ids = async (filter: Parameters<Store['deliveries']['list']>[0]) =>
      (await store.deliveries.list(filter)).map((d) => `${types.indexOf(d.type)}${d.sink}`);
    assert.deepEqual(await ids({ type: 'dev.cdevents.pipelinerun.queued.0.3.0' }), ['0a', '0b']);
    assert.deepEqual(await ids({ type: 'dev.cdevents.pipelinerun.queued', sink: 'a' }), ['0a']);
    assert.deepEqual(await ids({ type: 'dev.cdevents.pipelinerun.*', sink: 'a' }), ['1a', '0a']);
    assert.deepEqual(await ids({ type: '*.finished.*', sink: 'b' }), ['2b']);
    assert.deepEqual(await ids({ type: 'dev.cdevents.pipelinerun', sink: 'a' }), []);
    assert.deepEqual(await ids({ type: 'dev.cdevents.pipelinerun_queued', sink: 'a' }), ['3a']);
    assert.deepEqual(await ids({ type: '*', sink: 'a' }), ['4a', '3a', '2a', '1a', '0a']);

    const all = await ids({});
    const pages: string[] = [];
    let after: { eventSeq: number; sink: string } | undefined;
    for (;;) {
      const page = await store.deliveries.list({ limit: 3, ...(after ? { after } : {}) });
      pages.push(...page.map((d) => `${types.indexOf(d.type)}${d.sink}`));
      const last = page.at(-1);
      if (page.length < 3 || last === undefined) break;
      after = { eventSeq: last.eventSeq, sink: last.sink };
    }
    assert.deepEqual(pages, all);
    assert.equal(all.length, 10);

    const seqs = (await store.outbox.listByRun(run.id)).map((e) => e.seq);
    for (const seq of seqs) await store.deliveries.markFailed('a', seq, 'down', 5, true);
    assert.equal(await store.deliveries.redeliver({ type: 'dev.cdevents.pipelinerun.*' }, 10), 2);
    assert.deepEqual(await ids({ state: 'pending', sink: 'a' }), ['1a', '0a']);

    const more = [newEvent(null, 'x.late'), newEvent(null, 'x.later')];
    await store.outbox.append(more);
    const lastSeq = seqs.at(-1)!;
    assert.equal(await store.deliveries.enqueueNew('c', 20, lastSeq), 2, 'only the two after the seq');
    assert.equal(await store.deliveries.enqueueNew('c', 21), 5, 'a full scan finds the rest');
    assert.equal(await store.deliveries.enqueueNew('a', 22, lastSeq + 1), 1, 'only seq > lastSeq + 1');
  });
}

describe('memory inbox', () => {
  inboxCases(async () => {
    const inbox = memoryInbox();
    return [inbox, inbox];
  });
});

function onDialect(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());
    const stores = async (t: TestContext) => {
      const url = await h.freshUrl();
      return [await h.open(t, url), await h.open(t, url)] as const;
    };
    inboxCases(async (t) => {
      const [a, b] = await stores(t);
      return [a.inbox, b.inbox];
    });
    leaseCases(async (t) => {
      const [a, b] = await stores(t);
      return [a.sinkLeases, b.sinkLeases];
    });
    deliveryCases((t) => h.fresh(t));
  });
}

await onEachDialect('inbox, sink leases and delivery filters', onDialect);
