import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NO_EVENTS } from '../src/engine/ports.js';
import { createStoreCallbacks } from '../src/service/store-callbacks.js';
import type { ChangeFeed, Store, TaskRunRecord } from '../src/store/types.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { postgresForSuite, startPostgres, type PostgresServer } from './support/postgres.js';

// one action that holds until a flag file (named by the run's input) appears, calling nothing
const WAITING = `name: waiting
inputs: { type: object, required: [flag], properties: { flag: { type: string } } }
stages:
  - name: only
    actions:
      - name: wait
        with: { flag: "\${{ inputs.flag }}" }
        run: 'while [ ! -f "$CO_INPUT_FLAG" ]; do sleep 0.05; done'
`;

/** A change feed that tells nobody anything: the holder never hears of what is applied through it. */
const SILENT: ChangeFeed = { shared: true, publish: () => undefined, subscribe: () => () => undefined };

/**
 * A component's callbacks that reach a replica which does not hold its run are applied through
 * the store (service/store-callbacks.ts), and the holder is told by a notification. When the
 * component exits before that notification arrives, the holder's end write (which names how many
 * contract steps it has seen) is refused; it then takes in what the store holds and decides the
 * end again. Real PostgreSQL, a real local process; the other replica is its callback handler on
 * the same database, silenced so the race is certain.
 */
describe('a callback another replica recorded just before the component exited', { concurrency: false }, async () => {
  if (!(await postgresForSuite())) return;
  let pg: PostgresServer;
  let h: Harness;
  before(async () => {
    pg = await startPostgres();
    h = await createHarness({ executor: 'local', config: { db: pg.url, engineId: 'holder' } });
  });
  after(async () => {
    await h?.close();
    await pg?.stop();
  });

  const runningTask = (runId: string): Promise<TaskRunRecord> =>
    eventually(
      async () => (await h.runtime.store.taskRuns.listByRun(runId)).find((t) => t.state === 'running'),
      15_000,
      `run ${runId}'s task to run`,
    );

  const finishedEvents = async (runId: string): Promise<number> =>
    (await h.runtime.store.outbox.listByRun(runId)).filter((e) => e.type.startsWith('dev.cdevents.taskrun.finished'))
      .length;

  test('its result counts: the holder takes it in and records the end once', async () => {
    const flag = join(h.dir, 'exit-after-result');
    const run = await h.start(WAITING, { flag });
    const task = await runningTask(run.id);
    const elsewhere = new Proxy(h.runtime.store, {
      get: (target, key) => (key === 'changes' ? SILENT : Reflect.get(target, key)),
    }) as Store;
    const callbacks = createStoreCallbacks({
      store: elsewhere,
      secretsFor: () => Promise.resolve({}),
      globalSecrets: {},
      events: NO_EVENTS,
      eventsWritten: () => undefined,
    });
    const result = { status: 'failure', message: 'reported elsewhere', output: { via: 'another replica' } };
    for (const [step, body] of [
      ['component-start', undefined],
      ['task-start', undefined],
      ['task-result', JSON.stringify(result)],
    ] as const) {
      const answer = await callbacks.submit(task.tokenHash!, step, body);
      assert.equal(answer?.status, 200, `${step}: ${JSON.stringify(answer)}`);
    }
    await writeFile(flag, '');
    const ended = await h.runtime.engine.waitForRun(run.id);
    assert.equal(ended.state, 'failed', 'the result reported elsewhere decides, not the exit code');
    const [final] = await h.runtime.store.taskRuns.listByRun(run.id);
    assert.deepEqual(
      [final?.state, final?.exitCode, final?.result, final?.message, final?.output['via']],
      ['failed', 0, 'failure', 'reported elsewhere', 'another replica'],
    );
    assert.deepEqual(Object.keys(final?.steps ?? {}).sort(), ['component-start', 'task-result', 'task-start']);
    assert.equal(await finishedEvents(run.id), 1, 'one end written');
  });

  test('without one, the exit decides as always', async () => {
    const flag = join(h.dir, 'exit-alone');
    const run = await h.start(WAITING, { flag });
    await runningTask(run.id);
    await writeFile(flag, '');
    const ended = await h.runtime.engine.waitForRun(run.id);
    assert.equal(ended.state, 'succeeded');
    const [final] = await h.runtime.store.taskRuns.listByRun(run.id);
    assert.deepEqual([final?.state, final?.exitCode, final?.result, final?.steps], ['succeeded', 0, null, {}]);
    assert.equal(await finishedEvents(run.id), 1);
  });
});
