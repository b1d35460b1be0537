import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunRecord } from '../src/store/types.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { postgresForSuite, startPostgres, type PostgresServer } from './support/postgres.js';

// a deploy that holds until a flag file (named by the run's input) appears
const GROUPED = (cancelInProgress = false) => `name: deploy
inputs: { type: object, required: [env, flag], properties: { env: { type: string }, flag: { type: string } } }
concurrency: { group: "deploy-\${{ inputs.env }}", cancelInProgress: ${cancelInProgress} }
stages:
  - name: deploy
    actions:
      - name: deploy
        with: { flag: "\${{ inputs.flag }}" }
        run: 'while [ ! -f "$CO_INPUT_FLAG" ]; do sleep 0.05; done'
`;

async function stateOf(h: Harness, id: string): Promise<RunRecord['state']> {
  return (await h.runtime.store.runs.get(id))!.state;
}

async function untilRunning(h: Harness, id: string): Promise<void> {
  await eventually(async () => ((await stateOf(h, id)) === 'running' ? true : undefined), 15_000, `run ${id} to run`);
}

/** Concurrency groups on one engine: real processes, a real SQLite store. */
describe('concurrency groups on the local executor', { concurrency: false }, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ executor: 'local' });
  });
  after(async () => {
    await h?.close();
  });

  test('a group holds a second run in queued until the first ends; another group runs meanwhile', async () => {
    const flag = (name: string) => join(h.dir, name);
    const first = await h.start(GROUPED(), { env: 'prod', flag: flag('first') });
    await untilRunning(h, first.id);
    const second = await h.start(GROUPED(), { env: 'prod', flag: flag('second') });
    assert.equal(second.concurrencyGroup, 'deploy-prod');
    // a run of another group starts and ends while the second waits
    await writeFile(flag('other'), '');
    const other = await h.start(GROUPED(), { env: 'staging', flag: flag('other') });
    assert.equal((await h.runtime.engine.waitForRun(other.id)).state, 'succeeded');
    assert.equal(await stateOf(h, second.id), 'queued', 'the second run waits for its group');
    assert.equal(await stateOf(h, first.id), 'running');

    await writeFile(flag('first'), '');
    await writeFile(flag('second'), '');
    const firstEnded = await h.runtime.engine.waitForRun(first.id);
    const secondEnded = await h.runtime.engine.waitForRun(second.id);
    assert.equal(secondEnded.state, 'succeeded');
    assert.ok(secondEnded.startedAt! >= firstEnded.endedAt!, 'the second started after the first ended');
  });

  test('cancelInProgress: a new run cancels the running one of its group', async () => {
    const flag = join(h.dir, 'never');
    const first = await h.start(GROUPED(true), { env: 'prod', flag });
    await untilRunning(h, first.id);
    await writeFile(join(h.dir, 'newer'), '');
    const newer = await h.start(GROUPED(true), { env: 'prod', flag: join(h.dir, 'newer') });
    const cancelled = await h.runtime.engine.waitForRun(first.id);
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(
      cancelled.reason,
      `cancelled: run #${newer.number} of concurrency group deploy-prod started (cancelInProgress)`,
    );
    assert.equal((await h.runtime.engine.waitForRun(newer.id)).state, 'succeeded');
  });

  test('runs waiting for a group start in creation order; a cancelled waiter leaves the queue', async () => {
    const flag = (name: string) => join(h.dir, `order-${name}`);
    const holder = await h.start(GROUPED(), { env: 'order', flag: flag('holder') });
    await untilRunning(h, holder.id);
    const a = await h.start(GROUPED(), { env: 'order', flag: flag('a') });
    const b = await h.start(GROUPED(), { env: 'order', flag: flag('b') });
    const c = await h.start(GROUPED(), { env: 'order', flag: flag('c') });
    await h.runtime.engine.cancelRun(b.id, 'not needed');
    for (const name of ['holder', 'a', 'b', 'c']) await writeFile(flag(name), '');
    const ended = await Promise.all([holder, a, b, c].map((r) => h.runtime.engine.waitForRun(r.id)));
    assert.deepEqual(
      ended.map((r) => r.state),
      ['succeeded', 'succeeded', 'cancelled', 'succeeded'],
    );
    assert.ok(ended[1]!.startedAt! >= ended[0]!.endedAt!);
    assert.ok(ended[3]!.startedAt! >= ended[1]!.endedAt!, 'c waited for a');
  });
});

/**
 * Two engines on one PostgreSQL database: the group is decided in the store, not in memory, and a
 * cancel reaches the engine that carries the run through the store. Both engines poll slowly (a
 * claim round every 10 minutes, a heartbeat a minute): what moves a run on here is a notification
 * (`freed` when a grouped run ends, `intent` when a cancel is recorded), not a poll. Engine one
 * carries one run at a time, so a run it starts while busy can only go to engine two.
 */
describe(
  'concurrency groups and child runs across two engines on one PostgreSQL store',
  { concurrency: false },
  async () => {
    if (!(await postgresForSuite())) return;
    const slow = { heartbeatMs: 60_000, leaseTtlMs: 180_000 };
    let pg: PostgresServer;
    let one: Harness;
    let two: Harness;
    before(async () => {
      pg = await startPostgres();
      one = await createHarness({
        executor: 'local',
        config: { db: pg.url, engineId: 'replica-one', maxActiveRuns: 1, ...slow },
        runtime: { claimPollMs: 600_000 },
      });
      two = await createHarness({
        executor: 'local',
        config: { db: pg.url, engineId: 'replica-two', ...slow },
        runtime: { claimPollMs: 600_000 },
      });
    });
    after(async () => {
      await one?.close();
      await two?.close();
      await pg?.stop();
    });

    const ownerOf = async (id: string): Promise<string | null> => (await one.runtime.store.runs.get(id))!.owner;

    test('a run started on the second engine stays queued while the first engine runs its group', async () => {
      const flag = join(one.dir, 'release');
      const first = await one.start(GROUPED(), { env: 'shared', flag });
      await untilRunning(one, first.id);
      const second = await two.start(GROUPED(), { env: 'shared', flag });
      // the second engine is busy enough to have run another run meanwhile
      await writeFile(join(two.dir, 'free'), '');
      const unrelated = await two.start(GROUPED(), { env: 'elsewhere', flag: join(two.dir, 'free') });
      assert.equal((await two.runtime.engine.waitForRun(unrelated.id)).state, 'succeeded');
      assert.equal(await stateOf(two, second.id), 'queued');

      await writeFile(flag, '');
      const firstEnded = await one.runtime.engine.waitForRun(first.id);
      const secondEnded = await two.runtime.engine.waitForRun(second.id);
      assert.equal(secondEnded.state, 'succeeded');
      assert.ok(secondEnded.startedAt! >= firstEnded.endedAt!, 'it started once the other engine’s run ended');
    });

    test('a capped workflow (maxRuns: 1): the other engine’s waiting run starts when the first ends', async () => {
      const capped = `name: capped
maxRuns: 1
inputs: { type: object, properties: { flag: { type: string } } }
stages:
  - name: wait
    actions:
      - name: wait
        with: { flag: "\${{ inputs.flag }}" }
        run: 'while [ ! -f "$CO_INPUT_FLAG" ]; do sleep 0.05; done'
`;
      const flag = join(one.dir, 'capped-release');
      const first = await one.start(capped, { flag });
      await untilRunning(one, first.id);
      const second = await two.start(capped, { flag });
      assert.equal(await stateOf(two, second.id), 'queued');
      await writeFile(flag, '');
      const firstEnded = await one.runtime.engine.waitForRun(first.id);
      const secondEnded = await two.runtime.engine.waitForRun(second.id);
      assert.equal(secondEnded.state, 'succeeded');
      assert.ok(secondEnded.startedAt! >= firstEnded.endedAt!, 'it waited for the cap');
    });

    test('cancelInProgress: a run started on the second engine cancels the one the first engine carries', async () => {
      const first = await one.start(GROUPED(true), { env: 'cip', flag: join(one.dir, 'never') });
      await untilRunning(one, first.id);
      assert.match((await ownerOf(first.id)) ?? '', /^replica-one\//);
      await writeFile(join(two.dir, 'cip-newer'), '');
      const newer = await two.start(GROUPED(true), { env: 'cip', flag: join(two.dir, 'cip-newer') });

      const cancelled = await two.runtime.engine.waitForRun(first.id);
      assert.equal(cancelled.state, 'cancelled');
      assert.equal(
        cancelled.reason,
        `cancelled: run #${newer.number} of concurrency group deploy-cip started (cancelInProgress)`,
      );
      const newerEnded = await two.runtime.engine.waitForRun(newer.id);
      assert.equal(newerEnded.state, 'succeeded');
      assert.ok(newerEnded.startedAt! >= cancelled.endedAt!, 'the newer run waited for the group');
      assert.deepEqual(await one.leftovers(first.id), [], 'engine one stopped the cancelled run’s process');
    });

    test('cancelling a parent through the second engine cancels it and its child, each where it runs', async () => {
      await one.write(
        'held-child.yaml',
        `apiVersion: pilotage.dev/v1
kind: Workflow
name: held-child
concurrency: { group: held-child }
stages:
  - name: wait
    actions:
      - { name: wait, run: "sleep 300" }
`,
      );
      // engine two now claims any queued run; engine one, busy with the parent, has no room for the child
      await two.runtime.engine.start();
      const parent = await one.start(`name: calls-held
stages:
  - name: call
    actions:
      - { name: call, uses: ./held-child.yaml }
`);
      const child = await eventually(
        async () => {
          const [found] = await one.runtime.store.runs.list({ parentRunId: parent.id });
          const tasks = found ? await one.runtime.store.taskRuns.listByRun(found.id) : [];
          return tasks.some((t) => t.state === 'running') ? found : undefined;
        },
        15_000,
        'the child run’s action to run',
      );
      assert.match((await ownerOf(parent.id)) ?? '', /^replica-one\//);
      assert.match((await ownerOf(child!.id)) ?? '', /^replica-two\//, 'the child runs on the other engine');

      await two.runtime.engine.cancelRun(parent.id, 'stop everything');
      const run = await two.runtime.engine.waitForRun(parent.id);
      assert.equal(run.state, 'cancelled');
      const ended = await one.runtime.engine.waitForRun(child!.id);
      assert.equal(ended.state, 'cancelled');
      assert.match(ended.reason ?? '', /its parent run .* stopped \(stop everything\)/);
      const call = (await one.runtime.store.taskRuns.listByRun(run.id)).find((t) => t.action === 'call')!;
      assert.equal(call.state, 'cancelled');
      assert.deepEqual(await two.leftovers(child!.id), [], 'engine two stopped the child’s process');
    });
  },
);
