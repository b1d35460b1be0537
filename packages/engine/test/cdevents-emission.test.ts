import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '../src/domain/ids.js';
import type { JsonValue } from '../src/domain/vocabulary.js';
import { validateCdevent } from '../src/events/validate.js';
import { fileSink } from '../src/events/sinks/file-sink.js';
import type { OutboxRecord } from '../src/store/types.js';
import { createHarness, eventually, type Harness } from './support/harness.js';

const short = (type: string) => type.replace(/^dev\.cdevents\./, '').replace(/\.0\.3\.0$/, '');

/** Check one run's events: all valid, run events framing task-run pairs, one chain. */
function checkRunEvents(events: readonly OutboxRecord[], taskRunIds: readonly string[]): string[] {
  for (const event of events) {
    const result = validateCdevent(event.payload);
    assert.ok(result.ok, `${event.type} is valid: ${JSON.stringify(result)}`);
  }
  const types = events.map((e) => short(e.type));
  assert.deepEqual(types.slice(0, 2), ['pipelinerun.queued', 'pipelinerun.started']);
  assert.equal(types.at(-1), 'pipelinerun.finished');
  const chains = new Set(events.map((e) => (e.payload.context as { chainId?: string }).chainId));
  assert.equal(chains.size, 1, 'one chainId for the whole run');
  // every task run that started reports exactly one start, then exactly one finish
  for (const id of taskRunIds) {
    const mine = events.filter((e) => (e.payload.subject as { id: string }).id === id).map((e) => short(e.type));
    assert.ok(mine.length === 0 || mine.at(-1) === 'taskrun.finished', `task run ${id}: ${mine.join(',')}`);
    assert.ok(mine.filter((t) => t === 'taskrun.started').length <= 1);
    if (mine.includes('taskrun.started')) assert.deepEqual(mine, ['taskrun.started', 'taskrun.finished']);
  }
  return types;
}

describe('CDEvents emitted by runs', { concurrency: false }, () => {
  let h: Harness;
  const sinkFile = () => join(h.dir, 'events.jsonl');
  before(async () => {
    h = await createHarness({ executor: 'local', runtime: { sinks: [] } });
  });
  after(async () => {
    await h?.close();
  });

  test('success, failure and retry runs emit valid events in the right order', async () => {
    const success = await h.run(
      `name: ok\nstages:\n  - name: a\n    actions:\n      - { name: one, run: "true" }\n      - { name: two, run: "true" }\n  - name: b\n    actions:\n      - { name: three, run: "true" }\n`,
    );
    const okEvents = await h.runtime.store.outbox.listByRun(success.run.id);
    const types = checkRunEvents(
      okEvents,
      success.tasks.map((t) => t.id),
    );
    assert.equal(types.filter((t) => t === 'taskrun.started').length, 3);
    const finished = okEvents.at(-1)!.payload.subject as { content: { outcome: string; pipelineName: string } };
    assert.equal(finished.content.outcome, 'success');
    assert.equal(finished.content.pipelineName, 'ok');

    const failing = await h.run(
      `name: retrying\nstages:\n  - name: a\n    actions:\n      - name: flaky\n        retries: { limit: 1, backoff: 50ms }\n        run: "exit 1"\n  - name: b\n    actions:\n      - { name: never, run: "true" }\n`,
    );
    const failEvents = await h.runtime.store.outbox.listByRun(failing.run.id);
    const failTypes = checkRunEvents(
      failEvents,
      failing.tasks.map((t) => t.id),
    );
    assert.equal(
      failTypes.filter((t) => t === 'taskrun.finished').length,
      2,
      'one per attempt; the skipped action reports nothing',
    );
    const taskFinished = failEvents
      .filter((e) => short(e.type) === 'taskrun.finished')
      .map((e) => (e.payload.subject as { content: { outcome: string; errors?: string } }).content);
    assert.deepEqual(
      taskFinished.map((c) => c.outcome),
      ['failure', 'failure'],
    );
    assert.match(taskFinished[0]!.errors ?? '', /exit|code/);
    assert.equal((failEvents.at(-1)!.payload.subject as { content: { outcome: string } }).content.outcome, 'failure');
  });

  test('a cancelled run ends with outcome cancel', async () => {
    const started = await h.start(
      `name: cancelled\nstages:\n  - name: a\n    actions:\n      - { name: long, run: "sleep 30" }\n`,
    );
    await eventually(async () =>
      (await h.runtime.store.taskRuns.listByRun(started.id)).some((t) => t.state === 'running') ? true : undefined,
    );
    await h.runtime.engine.cancelRun(started.id);
    const run = await h.runtime.engine.waitForRun(started.id);
    const events = await h.runtime.store.outbox.listByRun(run.id);
    checkRunEvents(
      events,
      (await h.runtime.store.taskRuns.listByRun(run.id)).map((t) => t.id),
    );
    const outcomes = events
      .filter((e) => e.type.includes('finished'))
      .map((e) => (e.payload.subject as { content: { outcome: string } }).content.outcome);
    assert.deepEqual(outcomes, ['cancel', 'cancel']);
  });

  test('events reach a file sink through the delivery worker, once each, in order', async () => {
    const local = await createHarness({
      executor: 'local',
      runtime: { sinks: [fileSink({ path: join(h.dir, 'events.jsonl') })] },
    });
    try {
      const { run } = await local.run(
        `name: to-file\nstages:\n  - name: a\n    actions:\n      - { name: one, run: "true" }\n`,
      );
      assert.equal(await local.runtime.drainEvents(5000), 0);
      const lines = (await readFile(sinkFile(), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { context: { id: string; type: string } });
      const stored = await local.runtime.store.outbox.listByRun(run.id);
      assert.deepEqual(
        lines.map((l) => l.context.id),
        stored.map((e) => e.id),
      );
    } finally {
      await local.close();
    }
  });

  test('a component reports a domain event through CO_CDEVENT', async () => {
    const { run, byAction } = await h.run(`name: reporter
stages:
  - name: a
    actions:
      - name: publish
        run: |
          wget -q -O /dev/null --post-data '{"type":"dev.cdevents.artifact.published.0.3.0","subject":{"id":"pkg:npm/app@1.0.0","content":{}}}' "$CO_CDEVENT"
`);
    assert.equal(byAction.get('publish')!.state, 'succeeded', byAction.get('publish')!.reason ?? '');
    const events = await h.runtime.store.outbox.listByRun(run.id);
    const published = events.find((e) => e.type.startsWith('dev.cdevents.artifact.published'));
    assert.ok(published, 'the artifact event is in the outbox');
    assert.ok(validateCdevent(published.payload).ok);
    assert.equal((published.payload.context as { chainId: string }).chainId, run.chainId);
  });

  test('cancelling a queued run that no engine here carries out still emits its finished event', async () => {
    // a run another process recorded and never started: only the store knows it
    const plan = await h.plan(
      `name: elsewhere\nstages:\n  - name: a\n    actions:\n      - { name: one, run: "true" }\n`,
    );
    const run = await h.runtime.store.runs.create({
      id: newId(),
      workflow: plan.name,
      inputs: {},
      plan: plan as unknown as JsonValue,
      trigger: { kind: 'manual' },
      chainId: newId(),
      createdAt: Date.now(),
    });
    await h.runtime.engine.cancelRun(run.id, 'not wanted');
    const ended = await h.runtime.store.runs.get(run.id);
    assert.equal(ended?.state, 'cancelled');
    assert.equal(ended?.reason, 'not wanted');
    const events = await h.runtime.store.outbox.listByRun(run.id);
    const finished = events.find((e) => short(e.type) === 'pipelinerun.finished');
    assert.ok(finished, 'pipelinerun.finished is in the outbox');
    assert.ok(validateCdevent(finished.payload).ok);
    assert.equal((finished.payload.subject as { content: { outcome: string } }).content.outcome, 'cancel');
    await assert.rejects(h.runtime.engine.cancelRun(run.id), /already ended/);
  });
});
