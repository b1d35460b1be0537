import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NewOutboxEvent, Store } from '../src/store/types.js';
import { newEvent, newRun } from './store-suite/fixtures.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli } from './support/cli.js';

/** Run the CLI from source (no build needed); resolves with its exit code and output. */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { fromSource: true, env });

const T = {
  queued: 'dev.cdevents.pipelinerun.queued.0.3.0',
  started: 'dev.cdevents.pipelinerun.started.0.3.0',
  taskFinished: 'dev.cdevents.taskrun.finished.0.3.0',
  published: 'dev.cdevents.artifact.published.0.3.0',
};

describe('GET /v1/events, POST /v1/events/redeliver, GET /v1/runs/:id/cdevents', { concurrency: false }, () => {
  let h: ApiHarness;
  let store: Store;
  let read: string;
  let run: string;
  const r1: NewOutboxEvent[] = [];
  const r2: NewOutboxEvent[] = [];
  let loose: NewOutboxEvent;
  /** every (event id, sink) pair, in list order: newest event first, then sink name */
  let expected: string[];

  before(async () => {
    h = await createApiHarness();
    store = h.server.runtime.store;
    read = await h.token('read');
    run = await h.token('run');
    const one = newRun('one');
    const two = newRun('two');
    r1.push(newEvent(one.id, T.queued), newEvent(one.id, T.started), newEvent(one.id, T.taskFinished));
    r2.push(newEvent(two.id, T.queued));
    loose = newEvent(null, T.published);
    await store.runs.create(one, r1.slice(0, 2));
    await store.runs.create(two, r2);
    await store.outbox.append([r1[2]!, loose]);
    await store.deliveries.enqueueNew('sink-a', 1000);
    await store.deliveries.enqueueNew('sink-b', 1000);
    const seqOf = new Map((await store.outbox.listAfter(0, 100)).map((e) => [e.id, e.seq]));
    const seq = (e: NewOutboxEvent): number => seqOf.get(e.id)!;
    for (const e of r1) await store.deliveries.markDelivered('sink-a', seq(e), 2000);
    await store.deliveries.markFailed('sink-b', seq(r1[2]!), 'POST answered 503', 9000, true);
    await store.deliveries.markFailed('sink-b', seq(loose), 'POST answered 500', 9000, true);
    await store.deliveries.markFailed('sink-a', seq(r2[0]!), 'connection refused', 3000, false);
    const order = [...r1.slice(0, 2), ...r2, r1[2]!, loose].reverse(); // insertion order, newest first
    expected = order.flatMap((e) => [`${e.id} sink-a`, `${e.id} sink-b`]);
  });
  after(() => h?.close());

  const pairs = (items: { eventId: string; sink: string }[]) => items.map((d) => `${d.eventId} ${d.sink}`);

  test('lists every delivery, newest event first, with its state', async () => {
    const answer = await h.call('GET', '/v1/events', { token: read });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(pairs(answer.body.deliveries), expected);
    assert.equal(answer.body.nextCursor, null);
    const dead = answer.body.deliveries.find(
      (d: { eventId: string; sink: string }) => d.eventId === loose.id && d.sink === 'sink-b',
    );
    assert.deepEqual(dead, {
      eventSeq: dead.eventSeq,
      eventId: loose.id,
      runId: null,
      type: T.published,
      sink: 'sink-b',
      state: 'dead',
      attempts: 1,
      lastError: 'POST answered 500',
      nextAttemptAt: 9000,
      deliveredAt: null,
      firstFailedAt: null,
    });
  });

  test('filters: sink, state, run, event id, and type as exact, unversioned or glob', async () => {
    const ask = async (query: string) => {
      const answer = await h.call('GET', `/v1/events?${query}`, { token: read });
      assert.equal(answer.status, 200, `${query}: ${JSON.stringify(answer.body)}`);
      return answer.body.deliveries as { eventId: string; sink: string; state: string; type: string }[];
    };
    assert.equal((await ask('sink=sink-a')).length, 5);
    assert.deepEqual(
      (await ask('state=dead')).map((d) => d.eventId),
      [loose.id, r1[2]!.id],
    );
    assert.deepEqual(
      (await ask('state=pending&sink=sink-a')).map((d) => d.eventId),
      [loose.id, r2[0]!.id],
    );
    assert.equal((await ask(`runId=${r1[0]!.runId}`)).length, 6);
    assert.deepEqual(pairs(await ask(`eventId=${r1[1]!.id}`)), [`${r1[1]!.id} sink-a`, `${r1[1]!.id} sink-b`]);
    assert.equal((await ask(`type=${T.queued}`)).length, 4);
    assert.equal((await ask('type=dev.cdevents.pipelinerun.queued')).length, 4, 'unversioned: any version');
    assert.equal((await ask('type=dev.cdevents.pipelinerun.*')).length, 6, 'glob');
    assert.equal((await ask('type=*.finished.*')).length, 2);
    assert.equal((await ask('type=dev.cdevents.pipelinerun')).length, 0, 'a name is not a prefix');
    assert.equal((await ask('type=dev.cdevents.pipelinerun_queued.0.3.0')).length, 0, '_ is no wildcard');
  });

  test('cursor pagination walks the same list, page by page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await h.call('GET', `/v1/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: read });
      assert.equal(answer.status, 200);
      assert.ok(answer.body.deliveries.length <= 3);
      seen.push(...pairs(answer.body.deliveries));
      cursor = answer.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.deepEqual(seen, expected);
    assert.equal(pages, 4, '10 deliveries, 3 a page (the last page is empty after an exact fit or short)');
  });

  test('bad queries get 400 naming the field; no token 401', async () => {
    const badCursor = await h.call('GET', '/v1/events?cursor=bm9wZQ', { token: read });
    assert.equal(badCursor.status, 400);
    assert.equal(badCursor.body.details[0].field, 'querystring.cursor');
    const badState = await h.call('GET', '/v1/events?state=lost', { token: read });
    assert.equal(badState.status, 400);
    assert.match(JSON.stringify(badState.body.details), /querystring\.state/);
    const badLimit = await h.call('GET', '/v1/events?limit=0', { token: read });
    assert.equal(badLimit.status, 400);
    assert.match(JSON.stringify(badLimit.body.details), /querystring\.limit/);
    assert.equal((await h.call('GET', '/v1/events', { token: null })).status, 401);
  });

  test("a run's CDEvents, whole and in order, with their deliveries; 404 for an unknown run", async () => {
    const answer = await h.call('GET', `/v1/runs/${r1[0]!.runId}/cdevents`, { token: read });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(
      answer.body.events.map((e: { id: string }) => e.id),
      r1.map((e) => e.id),
    );
    const last = answer.body.events[2];
    assert.deepEqual(last.event, r1[2]!.payload);
    assert.equal(last.type, T.taskFinished);
    assert.deepEqual(
      last.deliveries.map((d: { sink: string; state: string }) => `${d.sink}:${d.state}`),
      ['sink-a:delivered', 'sink-b:dead'],
    );
    const missing = await h.call('GET', '/v1/runs/no-such-run/cdevents', { token: read });
    assert.equal(missing.status, 404);
    assert.equal((await h.call('GET', `/v1/runs/${r1[0]!.runId}/cdevents`, { token: null })).status, 401);
  });

  test('redeliver: admin only; moves the matching dead deliveries back to pending, due now', async () => {
    const forbidden = await h.call('POST', '/v1/events/redeliver', { token: run, body: {} });
    assert.equal(forbidden.status, 403);
    const unknownKey = await h.call('POST', '/v1/events/redeliver', { body: { sinks: 'x' } });
    assert.equal(unknownKey.status, 400);
    const none = await h.call('POST', '/v1/events/redeliver', { body: { type: 'dev.cdevents.build.*' } });
    assert.deepEqual(none.body, { redelivered: 0 });
    const one = await h.call('POST', '/v1/events/redeliver', { body: { sink: 'sink-b', runId: r1[0]!.runId } });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, { redelivered: 1 });
    const [back] = (await h.call('GET', `/v1/events?eventId=${r1[2]!.id}&sink=sink-b`, { token: read })).body
      .deliveries;
    assert.equal(back.state, 'pending');
    assert.equal(back.attempts, 0);
    assert.ok(back.nextAttemptAt > 9000, 'due now');
    const dead = (await h.call('GET', '/v1/events?state=dead', { token: read })).body.deliveries;
    assert.deepEqual(
      dead.map((d: { eventId: string }) => d.eventId),
      [loose.id],
    );
  });

  test('the CLI reads and redelivers through --server/--token', async () => {
    const admin = h.admin;
    const url = h.server.url;
    const listed = await cli(['events', 'list', '--server', url, '--token', read, '--state', 'dead']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      new RegExp(
        `^dead +sink-b  ${T.published.replaceAll('.', '\\.')}  ${loose.id}  attempts 1  last error: POST answered 500$`,
        'm',
      ),
    );
    const paged = await cli(['events', 'list', '--server', url, '--token', read, '--limit', '2', '--json']);
    assert.equal(paged.code, 0, paged.stderr);
    const lines = paged.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    assert.equal(typeof lines[2]?.nextCursor, 'string');
    const runEvents = await cli(['events', 'list', '--run', String(r1[0]!.runId)], {
      PILOTAGE_SERVER: url,
      PILOTAGE_TOKEN: read,
    });
    assert.equal(runEvents.code, 0, runEvents.stderr);
    assert.equal(runEvents.stdout.trim().split('\n').length, 3);
    assert.match(runEvents.stdout, /taskrun\.finished\.0\.3\.0 .*\(sink-a: delivered, sink-b: pending\)/);
    const refused = await cli(['events', 'redeliver', '--server', url, '--token', read]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /scope/);
    const redone = await cli(['events', 'redeliver', '--server', url, '--token', admin, '--sink', 'sink-b']);
    assert.equal(redone.code, 0, redone.stderr);
    assert.match(redone.stdout, /^1 delivery queued again; the server sends them/);
    const unreachable = await cli(['events', 'list', '--server', 'http://127.0.0.1:1', '--token', read]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach/);
  });
});
