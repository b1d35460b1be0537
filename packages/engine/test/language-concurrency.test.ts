import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunRecord } from '../src/store/types.js';
import { createHarness, eventually, type Harness } from './support/harness.js';
import { findPostgresBinaries, startPostgres, type PostgresServer } from './support/postgres.js';

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

/** Two engines on one PostgreSQL database: the group is decided in the store, not in memory. */
describe('concurrency groups across two engines on one PostgreSQL store', { concurrency: false }, async () => {
  const binaries = await findPostgresBinaries();
  if ('missing' in binaries) {
    test('postgres is installed', (t) => {
      const why = `postgres not installed: ${binaries.missing}`;
      if (process.env['CI'] === 'true') assert.fail(why);
      t.skip(why);
    });
    return;
  }
  let pg: PostgresServer;
  let one: Harness;
  let two: Harness;
  before(async () => {
    pg = await startPostgres();
    one = await createHarness({ executor: 'local', config: { db: pg.url, engineId: 'replica-one' } });
    two = await createHarness({ executor: 'local', config: { db: pg.url, engineId: 'replica-two' } });
  });
  after(async () => {
    await one?.close();
    await two?.close();
    await pg?.stop();
  });

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
});
