import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newId } from '../src/domain/ids.js';
import type { JsonValue } from '../src/domain/vocabulary.js';
import { applyWorkflow, GATED_WORKFLOW, waitForEnd, waitForRun } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { createHarness, type Harness } from './support/harness.js';

// each run waits for its own gate file
const GATED = `maxRuns: 1\n${GATED_WORKFLOW}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('instance cap (maxRuns): runs beyond it wait in queued and start in order', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness();
    await applyWorkflow(h, 'gated', GATED);
  });
  after(async () => h.close());

  test('with maxRuns 1, a second and third run stay queued until the first ends; a queued run can be cancelled', async () => {
    const gates = ['a', 'b', 'c'].map((n) => join(h.dir, `gate-${n}`));
    const ids: string[] = [];
    for (const gate of gates) {
      const started = await h.call('POST', '/v1/workflows/gated/runs', { body: { data: { gate } } });
      assert.equal(started.status, 201);
      assert.equal(started.body.state, 'queued');
      ids.push(started.body.id);
    }
    const [a, b, c] = ids as [string, string, string];
    await waitForRun(h, a, (d) => d.actions[0].state === 'running');
    await sleep(400);
    for (const id of [b, c]) {
      const detail = (await h.call('GET', `/v1/runs/${id}`)).body;
      assert.equal(detail.run.state, 'queued', 'beyond the cap: still queued');
      assert.equal(detail.actions[0].attempts.length, 0, 'nothing of it started');
    }

    await writeFile(gates[0]!, '');
    const first = await waitForEnd(h, a);
    assert.equal(first.run.state, 'succeeded');
    await waitForRun(h, b, (d) => d.actions[0].state === 'running');
    const third = (await h.call('GET', `/v1/runs/${c}`)).body;
    assert.equal(third.run.state, 'queued', 'the third waits for the second, in order');

    const cancelled = await h.call('POST', `/v1/runs/${c}/cancel`);
    assert.equal(cancelled.status, 202);
    const ended = await waitForEnd(h, c);
    assert.equal(ended.run.state, 'cancelled');
    assert.equal(ended.run.startedAt, null, 'a run cancelled while queued never started');
    assert.equal(ended.actions[0].attempts.length, 0);
    assert.deepEqual(
      ended.transitions.map((t: any) => t.to),
      ['queued', 'cancelled'],
    );

    await writeFile(gates[1]!, '');
    const second = await waitForEnd(h, b);
    assert.equal(second.run.state, 'succeeded');
    assert.ok(second.run.startedAt >= first.run.endedAt, 'the second started after the first ended');
  });
});

describe('instance cap after a restart (Engine.start)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ executor: 'local' });
  });
  after(async () => h.close());

  test('a run that was running keeps its slot; an older queued run waits for it', async () => {
    const plan = await h.plan(`name: gated\n${GATED}`);
    const { store, engine } = h.runtime;
    const gateQueued = join(h.dir, 'gate-queued');
    const gateRunning = join(h.dir, 'gate-running');
    const record = (gate: string) => ({
      id: newId(),
      workflow: 'gated',
      inputs: { gate },
      plan: plan as unknown as JsonValue,
      trigger: { kind: 'manual' as const },
      chainId: newId(),
      createdAt: Date.now(),
      maxRuns: 1,
    });
    // what a previous process left: the older run still queued, the newer one running
    const queued = await store.runs.create(record(gateQueued));
    const running = await store.runs.create(record(gateRunning));
    assert.ok(await store.runs.transition(running.id, ['queued'], 'running', Date.now(), { startedAt: Date.now() }));

    // the running run is taken over (nobody holds it); the queued one is not claimed: the cap is full
    const resumed = await engine.start();
    assert.deepEqual(
      resumed.map((r) => r.id),
      [running.id],
    );
    const deadline = Date.now() + 20_000;
    while ((await store.taskRuns.listByRun(running.id)).find((t) => t.state === 'running') === undefined) {
      assert.ok(Date.now() < deadline, 'the running run resumed');
      await sleep(50);
    }
    await sleep(300);
    assert.equal((await store.runs.get(queued.id))?.state, 'queued', 'the queued run waits for the slot');
    assert.deepEqual(await store.taskRuns.listByRun(queued.id), []);

    await writeFile(gateRunning, '');
    assert.equal((await engine.waitForRun(running.id)).state, 'succeeded');
    await writeFile(gateQueued, '');
    const last = await engine.waitForRun(queued.id);
    assert.equal(last.state, 'succeeded');
    assert.ok(last.startedAt! >= (await store.runs.get(running.id))!.endedAt!);
  });
});
