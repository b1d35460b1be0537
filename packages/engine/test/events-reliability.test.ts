import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../src/store/open-store.js';
import type { OutboxRecord, RunRecord, Store } from '../src/store/types.js';
import { acceptedIds, freePort, waitFor } from './events-support.js';
import { startReceiver, type TestReceiver } from './events-test-server.js';

/**
 * Reliability of CDEvents delivery end to end: the real CLI in child processes (run from source
 * with tsx), a real HTTP sink in this process that deduplicates by `ce-id` and records the order
 * in which it accepted events, and the SQLite file they share, read here to see what is stored.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cliMain = join(root, 'packages/engine/src/cli/main.ts');

interface Child {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** resolves when it has exited */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<Child>();

/** Start `pilotage ARGS` from source. Killed at the end of the file if still running. */
function pilotage(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', cliMain, ...args], {
    cwd: root,
    env: { ...process.env, PILOTAGE_SERVER: '', PILOTAGE_TOKEN: '', PILOTAGE_EVENT_SINKS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const handle: Child = { process: child, stdout: () => out, stderr: () => err, exited };
  children.add(handle);
  void exited.then(() => children.delete(handle));
  return handle;
}

/** The run of the store (there is one per test), once it exists. */
async function onlyRun(store: Store): Promise<RunRecord | undefined> {
  const runs = await store.runs.list({ limit: 10 });
  assert.ok(runs.length <= 1, 'one run per store');
  return runs[0];
}

/** The events of the run, in outbox order, and their delivery rows for `sink`. */
async function eventsOf(store: Store, runId: string, sink: string) {
  const events: OutboxRecord[] = await store.outbox.listByRun(runId);
  const deliveries = await store.deliveries.list({ runId, sink, limit: 1000 });
  return { events, deliveries };
}

const SEQUENCE_OF_THREE = [
  'dev.cdevents.pipelinerun.queued.0.3.0',
  'dev.cdevents.pipelinerun.started.0.3.0',
  ...Array.from({ length: 3 }, () => [
    'dev.cdevents.taskrun.started.0.3.0',
    'dev.cdevents.taskrun.finished.0.3.0',
  ]).flat(),
  'dev.cdevents.pipelinerun.finished.0.3.0',
];

describe('CDEvents delivery survives a sink outage and an engine killed with SIGKILL', { concurrency: false }, () => {
  let dir: string;
  let workflow: string;
  let count = 0;
  const receivers: TestReceiver[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-reliability-'));
    workflow = join(dir, 'three-steps.yaml');
    const step = (name: string) => `  - name: ${name}\n    actions:\n      - name: ${name}\n        run: sleep 0.4\n`;
    await writeFile(
      workflow,
      `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: three-steps\nstages:\n${step('one')}${step('two')}${step('three')}`,
    );
  });
  after(async () => {
    for (const child of children) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    for (const r of receivers) await r.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh store file and data folder for one test. */
  function place() {
    const n = ++count;
    return { db: join(dir, `p${n}.db`), data: join(dir, `data${n}`) };
  }

  test('a sink that is down while the run starts, then answers 503, then recovers gets every event once, in order', async () => {
    const { db, data } = place();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/events`;
    // Created (and migrated) here first, so the child and this reader never migrate at once.
    const store = await openStore({ url: db });
    const run = pilotage(['run', workflow, '--events', url, '--db', db, '--plain'], { PILOTAGE_DATA_DIR: data });
    try {
      // Wait until the engine has tried and failed to reach the sink (its port is closed).
      await waitFor(
        'a refused delivery',
        async () => {
          const d = await store.deliveries.list({ sink: url, limit: 10 });
          return d.some((x) => /ECONNREFUSED/.test(x.lastError ?? ''));
        },
        30_000,
      );
      const during = await onlyRun(store);
      assert.ok(during !== undefined && ['queued', 'running'].includes(during.state), 'the run is still going');

      // The sink comes back on the same port, refusing its first request with 503.
      const receiver = await startReceiver(port);
      receivers.push(receiver);
      const seen = acceptedIds(receiver);
      let refusals = 1;
      seen.install(() => (refusals-- > 0 ? 503 : 200));

      const { code } = await run.exited;
      assert.equal(code, 0, run.stderr());
      assert.doesNotMatch(run.stderr(), /still pending/);
      const finished = await onlyRun(store);
      assert.equal(finished?.state, 'succeeded');
      const { events, deliveries } = await eventsOf(store, finished!.id, url);
      assert.deepEqual(
        events.map((e) => e.type),
        SEQUENCE_OF_THREE,
      );
      assert.deepEqual(
        seen.accepted,
        events.map((e) => e.id),
        'every event arrived, in the order written',
      );
      assert.ok(receiver.requests.length >= events.length + 1, 'the 503 was retried');
      assert.ok(
        deliveries.length === events.length && deliveries.every((d) => d.state === 'delivered'),
        JSON.stringify(deliveries),
      );
      assert.ok(
        deliveries.some((d) => d.attempts > 1),
        'some deliveries took several attempts',
      );
    } finally {
      await store.close();
    }
  });

  /**
   * `pilotage run` against a sink that answers 503 to everything, killed with SIGKILL once its run
   * has ended and the outbox holds undelivered events. Returns what the store holds then.
   */
  async function runThenKill(url: string, receiver: TestReceiver) {
    const { db, data } = place();
    receiver.respond = () => ({ status: 503, body: 'down for maintenance' });
    const store = await openStore({ url: db });
    const run = pilotage(['run', workflow, '--events', url, '--db', db, '--plain'], { PILOTAGE_DATA_DIR: data });
    try {
      // The run ended (its last event is written with that change) and delivery keeps failing.
      const runId = await waitFor(
        'the run to end with its events undelivered',
        async () => {
          const r = await onlyRun(store);
          if (r?.state !== 'succeeded') return false;
          const { events, deliveries } = await eventsOf(store, r.id, url);
          return (
            events.length === SEQUENCE_OF_THREE.length &&
            deliveries.some((d) => d.attempts >= 1 && /503/.test(d.lastError ?? ''))
          );
        },
        30_000,
      ).then(async () => (await onlyRun(store))!.id);
      run.process.kill('SIGKILL');
      const { signal } = await run.exited;
      assert.equal(signal, 'SIGKILL');
      const { events, deliveries } = await eventsOf(store, runId, url);
      // Every event is undelivered: pending, or not even enqueued for the sink yet.
      assert.equal(deliveries.filter((d) => d.state === 'delivered').length, 0, 'nothing got through');
      assert.ok(deliveries.length > 0 && deliveries.every((d) => d.state === 'pending'), JSON.stringify(deliveries));
      const lease = await store.sinkLeases.holder(url);
      assert.match(lease?.owner ?? '', new RegExp(`/${run.process.pid}/`), 'the killed process still holds the lease');
      return { db, data, runId, events };
    } finally {
      await store.close();
    }
  }

  test('kill -9 after the run, before delivery; `pilotage serve` on the same store delivers everything', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const { db, data, runId, events } = await runThenKill(receiver.url, receiver);

    const seen = acceptedIds(receiver); // from now on: 200, dedup by ce-id
    const server = pilotage(['serve', '--db', db, '--port', '0'], {
      PILOTAGE_DATA_DIR: data,
      PILOTAGE_EVENT_SINKS: receiver.url,
    });
    try {
      // Well within the 30 s lease: the dead holder is recognised and replaced at once.
      await waitFor('every event delivered after the restart', () => seen.accepted.length >= events.length, 20_000);
      assert.deepEqual(
        seen.accepted,
        events.map((e) => e.id),
        'all of them, in order',
      );
      // the deliveries may finish before the server's last start-up step on a loaded machine
      await waitFor('the server says it is serving', () => /pilotage serving on/.test(server.stdout()), 20_000);
    } finally {
      server.process.kill('SIGTERM');
      const { code } = await server.exited;
      assert.equal(code, 0, server.stderr());
    }
    const store = await openStore({ url: db });
    try {
      const { deliveries } = await eventsOf(store, runId, receiver.url);
      assert.ok(
        deliveries.every((d) => d.state === 'delivered'),
        JSON.stringify(deliveries),
      );
      assert.equal(await store.sinkLeases.holder(receiver.url), undefined, 'serve released the lease on exit');
    } finally {
      await store.close();
    }
  });

  test('kill -9 after the run, before delivery; `pilotage events deliver` sends what is pending', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const { db, data, events } = await runThenKill(receiver.url, receiver);

    const seen = acceptedIds(receiver);
    const deliver = pilotage(['events', 'deliver', '--events', receiver.url, '--db', db, '--timeout', '20s'], {
      PILOTAGE_DATA_DIR: data,
    });
    const { code } = await deliver.exited;
    assert.equal(code, 0, deliver.stderr());
    assert.match(deliver.stdout(), /nothing pending/);
    assert.deepEqual(
      seen.accepted,
      events.map((e) => e.id),
    );
    assert.equal(seen.duplicates, 0);

    const again = pilotage(['events', 'list', '--db', db, '--state', 'pending', '--sink', receiver.url], {});
    assert.equal((await again.exited).code, 0, again.stderr());
    assert.match(again.stdout(), /^no deliveries/);
  });
});
