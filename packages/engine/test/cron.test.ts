import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JsonValue } from '../src/domain/vocabulary.js';
import { createCronScheduler, type CronScheduler } from '../src/service/cron-scheduler.js';
import type { StartWorkflowRun, WorkflowRunStarter } from '../src/service/workflow-run-starter.js';
import { openStore } from '../src/store/open-store.js';
import type { RunRecord, Store } from '../src/store/types.js';
import { createApiHarness } from './support/api-harness.js';
import { eventually } from './support/harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A starter that records what it was asked to start (one "run" per call). */
function recordingStarter(): WorkflowRunStarter & { readonly starts: StartWorkflowRun[] } {
  const starts: StartWorkflowRun[] = [];
  return {
    starts,
    start(input) {
      starts.push(input);
      return Promise.resolve({
        id: `run-${starts.length}`,
        number: starts.length,
        workflow: input.workflow,
      } as RunRecord);
    },
  };
}

const ticksOf = (starts: readonly StartWorkflowRun[]) =>
  starts.map((s) => (s.trigger.details as { tick: string }).tick);

async function storeCron(store: Store, name: string, schedule: string, timezone?: string): Promise<void> {
  const plan = {
    name,
    env: {},
    stages: [],
    triggers: [{ kind: 'cron', schedule, ...(timezone ? { timezone } : {}) }],
    failFast: false,
    concurrency: 1,
  };
  await store.workflows.apply({
    name,
    source: `# ${name} ${schedule}`,
    digest: `${name}-${schedule}-${timezone ?? ''}`,
    planJson: JSON.stringify(plan),
    at: Date.now(),
    by: null,
  });
}

describe('cron scheduler', () => {
  let dir: string;
  const stores: Store[] = [];
  const schedulers: CronScheduler[] = [];
  // one database per test (by name), shared by that test's schedulers
  const open = async (name: string): Promise<Store> => {
    const store = await openStore({ url: join(dir, name, 'pilotage.db') });
    stores.push(store);
    return store;
  };
  const scheduler = (
    store: Store,
    starter: WorkflowRunStarter,
    engineId: string,
    options: { catchUpMs?: number; clock?: () => number } = {},
  ) => {
    const s = createCronScheduler({ store, starter, engineId, pollMs: 200, ...options });
    schedulers.push(s);
    return s;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cron-'));
  });
  after(async () => {
    for (const s of schedulers) await s.stop();
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a seconds schedule fires once per tick, each tick claimed with its run', async () => {
    const store = await open('per-tick');
    await storeCron(store, 'every-second', '* * * * * *');
    const starter = recordingStarter();
    const s = scheduler(store, starter, 'engine-a', { catchUpMs: 0 });
    await s.start();
    assert.deepEqual(s.schedules(), [
      { workflow: 'every-second', triggerIndex: 0, schedule: '* * * * * *', timezone: 'UTC' },
    ]);
    await eventually(async () => (starter.starts.length >= 3 ? true : undefined), 15_000, 'three ticks');
    await s.stop();
    const ticks = ticksOf(starter.starts);
    assert.equal(new Set(ticks).size, ticks.length, `no tick twice: ${ticks.join(', ')}`);
    for (const tick of ticks) assert.match(tick, /:\d\d\.000Z$/, 'ticks are whole seconds');
    const claims = await store.cronClaims.list('every-second');
    assert.deepEqual(
      claims.map((c) => new Date(c.tickAt).toISOString()),
      ticks,
    );
    assert.ok(claims.every((c) => c.claimedBy === 'engine-a' && c.runId !== null));
    assert.deepEqual(starter.starts[0]?.trigger, {
      kind: 'cron',
      by: '* * * * * *',
      details: { tick: ticks[0] ?? '', trigger: 0, timezone: 'UTC' },
    });
    assert.deepEqual(starter.starts[0]?.data, {});
  });

  test('two schedulers on one store (two replicas) never both fire a tick', async () => {
    const [one, two] = [await open('replicas'), await open('replicas')];
    await storeCron(one, 'shared', '* * * * * *');
    const [a, b] = [recordingStarter(), recordingStarter()];
    const sa = scheduler(one, a, 'replica-a');
    const sb = scheduler(two, b, 'replica-b');
    await Promise.all([sa.start(), sb.start()]);
    await eventually(async () => (a.starts.length + b.starts.length >= 4 ? true : undefined), 15_000, 'four ticks');
    await Promise.all([sa.stop(), sb.stop()]);
    const ticks = [...ticksOf(a.starts), ...ticksOf(b.starts)];
    assert.equal(new Set(ticks).size, ticks.length, `a tick fired twice: ${ticks.sort().join(', ')}`);
    const claims = await one.cronClaims.list('shared');
    assert.equal(claims.length, ticks.length, 'one claim per run');
    assert.deepEqual(new Set(claims.map((c) => new Date(c.tickAt).toISOString())), new Set(ticks));
  });

  test('a restart in the middle fires no tick twice; a tick missed while down fires once on start', async () => {
    const store = await open('restart');
    await storeCron(store, 'restarted', '* * * * * *');
    const first = recordingStarter();
    const s1 = scheduler(store, first, 'engine-1');
    await s1.start();
    await eventually(async () => (first.starts.length >= 2 ? true : undefined), 15_000, 'two ticks');
    await s1.stop();
    // the next process starts at once: the tick the first one fired is in the catch-up window
    const second = recordingStarter();
    const s2 = scheduler(await open('restart'), second, 'engine-2');
    await s2.start();
    await eventually(async () => (second.starts.length >= 2 ? true : undefined), 15_000, 'two more ticks');
    await s2.stop();
    let ticks = [...ticksOf(first.starts), ...ticksOf(second.starts)];
    assert.equal(new Set(ticks).size, ticks.length, `a tick fired twice across the restart: ${ticks.join(', ')}`);

    // down for a while: on start only the latest missed tick fires (claimed), the older ones never
    await sleep(2500);
    const third = recordingStarter();
    const startedAt = Date.now();
    const s3 = scheduler(await open('restart'), third, 'engine-3');
    await s3.start();
    await s3.stop();
    const caughtUp = ticksOf(third.starts).map((t) => Date.parse(t));
    assert.equal(caughtUp.length, 1, `one catch-up tick, got ${caughtUp.length}`);
    assert.ok(caughtUp[0]! <= startedAt && startedAt - caughtUp[0]! < 2000, 'the latest tick before the start');
    ticks = [...ticks, ...ticksOf(third.starts)];
    assert.equal(new Set(ticks).size, ticks.length);
    assert.equal((await store.cronClaims.list('restarted')).length, ticks.length);
  });

  test('schedules follow the time zone of the trigger', async () => {
    const store = await open('zones');
    // 03:00 in Paris on 1 July 2024 is 01:00 UTC (summer time); start the clock 1.5 s before it
    await storeCron(store, 'paris', '0 3 * * *', 'Europe/Paris');
    await storeCron(store, 'utc', '0 3 * * *');
    const target = Date.parse('2024-07-01T01:00:00.000Z');
    const offset = target - 1500 - Date.now();
    const starter = recordingStarter();
    const s = scheduler(store, starter, 'engine-tz', { clock: () => Date.now() + offset, catchUpMs: 0 });
    await s.start();
    await eventually(async () => (starter.starts.length >= 1 ? true : undefined), 15_000, 'the Paris tick');
    await sleep(300);
    await s.stop();
    assert.deepEqual(
      starter.starts.map((x) => [x.workflow, (x.trigger.details as { tick: string }).tick]),
      [['paris', '2024-07-01T01:00:00.000Z']],
      'the UTC schedule (03:00 UTC) did not fire',
    );
  });

  test('disabling a workflow stops its schedule at the next poll; applying one adds it', async () => {
    const store = await open('poll');
    const starter = recordingStarter();
    const s = scheduler(store, starter, 'engine-poll', { catchUpMs: 0 });
    await s.start();
    const before = s.schedules().length;
    await storeCron(store, 'late-comer', '* * * * * *');
    await eventually(
      async () => (starter.starts.some((x) => x.workflow === 'late-comer') ? true : undefined),
      15_000,
      'the new schedule',
    );
    await store.workflows.setEnabled('late-comer', false, Date.now());
    await eventually(
      async () => (s.schedules().some((x) => x.workflow === 'late-comer') ? undefined : true),
      15_000,
      'the disabled schedule to go',
    );
    const count = starter.starts.filter((x) => x.workflow === 'late-comer').length;
    await sleep(1500);
    await s.stop();
    assert.equal(starter.starts.filter((x) => x.workflow === 'late-comer').length, count, 'no tick after disabling');
    assert.ok(s.schedules().length === 0 && before >= 0);
  });
});

describe('cron through the server', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-cron-serve-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('a server fires its runs once per tick, across a restart', async () => {
    const source = `apiVersion: pilotage.dev/v1
kind: Workflow
name: ticking
triggers:
  - cron: "* * * * *"
stages:
  - name: a
    actions:
      - { name: tick, run: "echo tick" }
`;
    const options = { options: { cronPollMs: 200 }, dir };
    const first = await createApiHarness(options);
    let runs: RunRecord[] = [];
    try {
      assert.equal((await first.call('POST', '/v1/workflows', { body: { source } })).status, 201);
      // the compiler takes 5-field schedules; store a version ticking every second to keep the test short
      const store = first.server.runtime.store;
      const v1 = await store.workflows.getVersion('ticking', 1);
      const plan = {
        ...(v1?.plan as Record<string, JsonValue>),
        triggers: [{ kind: 'cron', schedule: '* * * * * *' }],
      };
      await store.workflows.apply({
        name: 'ticking',
        source: `${source}# seconds\n`,
        digest: 'seconds',
        planJson: JSON.stringify(plan),
        at: Date.now(),
        by: null,
      });
      await eventually(
        async () => ((await store.runs.list({ workflow: 'ticking' })).length >= 2 ? true : undefined),
        20_000,
        'two cron runs',
      );
    } finally {
      await first.close();
    }
    const second = await createApiHarness(options);
    try {
      const store = second.server.runtime.store;
      const before = (await store.runs.list({ workflow: 'ticking' })).length;
      await eventually(
        async () => ((await store.runs.list({ workflow: 'ticking' })).length >= before + 2 ? true : undefined),
        20_000,
        'two more cron runs after the restart',
      );
      await second.server.close();
      runs = await store.runs.list({ workflow: 'ticking', limit: 500 }).catch(() => []);
    } finally {
      await second.close();
    }
    const reopened = await openStore({ url: join(dir, 'pilotage.db') });
    try {
      runs = await reopened.runs.list({ workflow: 'ticking', limit: 500 });
    } finally {
      await reopened.close();
    }
    const ticks = runs.map((r) => (r.trigger.details as { tick: string }).tick);
    assert.ok(runs.every((r) => r.trigger.kind === 'cron'));
    assert.ok(ticks.length >= 4);
    assert.equal(new Set(ticks).size, ticks.length, `a tick started two runs: ${ticks.sort().join(', ')}`);
  });
});
