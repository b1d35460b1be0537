import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewOutboxEvent, OutboxRecord, RunRecord, TaskRunRecord } from '../store/types.js';
import { createRunEventBuilder } from './run-event-builder.js';

const run = {
  id: '01JRUN0000000000000000000B',
  number: 1,
  workflow: 'release',
  trigger: { kind: 'api', by: 'admin' },
  chainId: '01JCHAIN00000000000000000B',
  parent: null,
  createdAt: Date.UTC(2026, 0, 2),
  startedAt: Date.UTC(2026, 0, 2, 0, 0, 1),
} as unknown as RunRecord;
const task = {
  id: '01JTASK000000000000000000B',
  runId: run.id,
  action: 'publish',
  startedAt: Date.UTC(2026, 0, 2, 0, 0, 2),
} as unknown as TaskRunRecord;
const report = { type: 'dev.cdevents.artifact.published.0.3.0', subject: { id: 'pkg:oci/app', content: {} } };

/** `events` as the outbox holds them. */
function written(events: readonly NewOutboxEvent[]): OutboxRecord[] {
  return events.map((e, i) => ({ ...e, seq: 100 + i, runSeq: i + 1 }));
}

function contextOf(built: NewOutboxEvent | string): { source: string; links?: unknown[]; chainId: string } {
  assert.ok(typeof built !== 'string', String(built));
  return (built.payload as { context: { source: string; links?: unknown[]; chainId: string } }).context;
}

test("a component's event built from the run's written events is the one its holder builds", () => {
  const holder = createRunEventBuilder('http://holder:7000');
  const events = [...holder.runQueued(run), ...holder.runStarted(run), ...holder.taskStarted(run, task)];
  const taskStartedId = (events[2]!.payload as { context: { id: string } }).context.id;
  const byHolder = contextOf(holder.componentEvent!(run, task, report, Date.UTC(2026, 0, 2, 0, 0, 3)));

  // another replica, which carries nothing of the run, relaying the component's callback
  const other = createRunEventBuilder('http://other:7000');
  const relayed = contextOf(other.componentEvent!(run, task, report, Date.UTC(2026, 0, 2, 0, 0, 3), written(events)));
  assert.equal(byHolder.source, 'http://holder:7000/workflows/release');
  assert.equal(relayed.source, byHolder.source, "the run's engine URL, not the relaying replica's");
  const parent = [{ linkType: 'RELATION', linkKind: 'PARENT', target: { contextId: taskStartedId } }];
  assert.deepEqual(byHolder.links, parent);
  assert.deepEqual(relayed.links, parent);
  assert.equal(relayed.chainId, run.chainId);

  // nothing of the run was kept: without the written events, that replica knows nothing of it
  const bare = contextOf(other.componentEvent!(run, task, report, Date.UTC(2026, 0, 2, 0, 0, 4)));
  assert.equal(bare.source, 'http://other:7000/workflows/release');
  assert.equal(bare.links, undefined);
});

test("once the task run's taskrun.finished is written, a relayed event has no link to its start", () => {
  const holder = createRunEventBuilder('http://holder:7000');
  const events = [
    ...holder.runQueued(run),
    ...holder.runStarted(run),
    ...holder.taskStarted(run, task),
    ...holder.taskFinished(run, { ...task, endedAt: Date.UTC(2026, 0, 2, 0, 0, 5) }, 'success', null),
  ];
  const other = createRunEventBuilder('http://other:7000');
  const relayed = contextOf(other.componentEvent!(run, task, report, Date.UTC(2026, 0, 2, 0, 0, 6), written(events)));
  const byHolder = contextOf(holder.componentEvent!(run, task, report, Date.UTC(2026, 0, 2, 0, 0, 6)));
  assert.equal(relayed.links, undefined);
  assert.equal(byHolder.links, undefined, 'as the holder, which forgot it at the finish');
  assert.equal(relayed.source, byHolder.source);
});
