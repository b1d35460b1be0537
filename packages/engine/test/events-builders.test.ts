import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildPipelineRunFinished,
  buildPipelineRunQueued,
  buildPipelineRunStarted,
  buildTaskRunFinished,
  buildTaskRunStarted,
  runUri,
  taskRunUri,
  toOutboxEvent,
  workflowSource,
} from '../src/events/builders.js';
import { assertValidCdevent, validateCdevent } from '../src/events/validate.js';
import { RUN_EVENT_TYPES, type CDEvent } from '../src/events/types.js';
import { PilotageError } from '../src/domain/errors.js';
import { outcomeOf, type Outcome } from '../src/domain/states.js';

const base = {
  engineUrl: 'http://127.0.0.1:8080/',
  workflow: 'build-and-test',
  runId: '01JRUN0000000000000000000A',
  chainId: '01JCHAIN00000000000000000A',
  timestamp: Date.UTC(2026, 4, 4, 10, 15, 30, 123),
};
const task = { ...base, taskRunId: '01JTASK000000000000000000A', taskName: 'unit' };
const OUTCOMES: readonly Outcome[] = ['success', 'failure', 'error', 'cancel'];

function assertSchemaValid(event: CDEvent<object>): void {
  const result = validateCdevent(event);
  assert.deepEqual(result, { ok: true, type: event.context.type }, JSON.stringify(result));
}

describe('run event builders', () => {
  test('pipelinerun.queued: full context, subject and content', () => {
    const e = buildPipelineRunQueued(base);
    assertSchemaValid(e);
    assert.equal(e.context.specversion, '0.5.1');
    assert.equal(e.context.type, 'dev.cdevents.pipelinerun.queued.0.3.0');
    assert.match(e.context.id, /^[0-9A-HJKMNP-TV-Z]{26}$/, 'a ULID');
    assert.equal(e.context.source, 'http://127.0.0.1:8080/workflows/build-and-test');
    assert.equal(e.context.timestamp, '2026-05-04T10:15:30.123Z');
    assert.equal(e.context.chainId, base.chainId);
    assert.equal(e.context.links, undefined, 'no links unless asked');
    assert.deepEqual(e.subject, {
      id: base.runId,
      source: 'http://127.0.0.1:8080/workflows/build-and-test',
      content: { pipelineName: 'build-and-test', uri: `http://127.0.0.1:8080/runs/${base.runId}` },
    });
    assert.equal('type' in e.subject, false, 'subject.type is gone in 0.5');
  });

  test('each event gets a new id; the subject id stays the run id', () => {
    const a = buildPipelineRunQueued(base);
    const b = buildPipelineRunStarted({ ...base, previousEventId: a.context.id });
    assert.notEqual(a.context.id, b.context.id);
    assert.equal(a.subject.id, b.subject.id);
    assert.deepEqual(b.context.links, [{ linkType: 'PATH', from: { contextId: a.context.id } }]);
    assertSchemaValid(b);
  });

  test('queued triggered by a CDEvent carries a RELATION TRIGGER link', () => {
    const e = buildPipelineRunQueued({ ...base, triggerEventId: 'incoming-1' });
    assert.deepEqual(e.context.links, [
      { linkType: 'RELATION', linkKind: 'TRIGGER', target: { contextId: 'incoming-1' } },
    ]);
    assertSchemaValid(e);
  });

  for (const outcome of OUTCOMES) {
    test(`pipelinerun.finished with outcome ${outcome}`, () => {
      const errors = outcome === 'success' ? undefined : `run ${outcome}: action unit`;
      const e = buildPipelineRunFinished({ ...base, outcome, errors, previousEventId: 'started-1', id: 'fixed-id' });
      assertSchemaValid(e);
      assert.equal(e.context.id, 'fixed-id');
      assert.equal(e.subject.content.outcome, outcome);
      assert.equal(e.subject.content.errors, errors);
      assert.equal('errors' in e.subject.content, errors !== undefined);
      assert.deepEqual(e.context.links, [
        { linkType: 'PATH', from: { contextId: 'started-1' } },
        { linkType: 'END', from: { contextId: 'started-1' } },
      ]);
    });

    test(`taskrun.finished with outcome ${outcome}`, () => {
      const errors = outcome === 'success' ? '' : 'exit code 3';
      const e = buildTaskRunFinished({ ...task, outcome, errors, previousEventId: 'ts-1', parentEventId: 'ps-1' });
      assertSchemaValid(e);
      assert.equal(e.subject.id, task.taskRunId);
      assert.equal(e.subject.content.outcome, outcome);
      assert.equal(e.subject.content.errors, errors === '' ? undefined : errors, 'an empty text is left out');
      assert.deepEqual(e.context.links, [
        { linkType: 'PATH', from: { contextId: 'ts-1' } },
        { linkType: 'RELATION', linkKind: 'PARENT', target: { contextId: 'ps-1' } },
      ]);
    });
  }

  test('outcomeOf maps every ended state to a schema-valid outcome', () => {
    for (const state of ['succeeded', 'failed', 'errored', 'cancelled', 'skipped'] as const) {
      const outcome = outcomeOf(state);
      assert.ok(outcome);
      assertSchemaValid(buildPipelineRunFinished({ ...base, outcome }));
      assertSchemaValid(buildTaskRunFinished({ ...task, outcome }));
    }
  });

  test('taskrun.started: task URI, pipelineRun reference, parent link', () => {
    const e = buildTaskRunStarted({ ...task, parentEventId: 'ps-1' });
    assertSchemaValid(e);
    assert.equal(e.context.type, RUN_EVENT_TYPES.taskRunStarted);
    assert.deepEqual(e.subject.content, {
      taskName: 'unit',
      uri: `http://127.0.0.1:8080/runs/${base.runId}/tasks/${task.taskRunId}`,
      pipelineRun: { id: base.runId, source: 'http://127.0.0.1:8080/workflows/build-and-test' },
    });
    assert.deepEqual(e.context.links, [{ linkType: 'RELATION', linkKind: 'PARENT', target: { contextId: 'ps-1' } }]);
  });

  test('names with spaces and slashes are escaped into valid URIs', () => {
    const e = buildTaskRunStarted({
      ...task,
      workflow: 'deploy prod/eu',
      taskName: 'a b',
      engineUrl: 'https://ci.example.com/pilotage',
    });
    assertSchemaValid(e);
    assert.equal(e.context.source, 'https://ci.example.com/pilotage/workflows/deploy%20prod%2Feu');
    assert.equal(e.subject.content.pipelineRun.source, e.context.source);
    assert.equal(
      workflowSource('https://ci.example.com/pilotage/', 'x'),
      'https://ci.example.com/pilotage/workflows/x',
    );
    assert.equal(runUri('https://h/', 'r'), 'https://h/runs/r');
    assert.equal(taskRunUri('https://h', 'r', 't'), 'https://h/runs/r/tasks/t');
  });

  test('extra links are appended and validated', () => {
    const e = buildPipelineRunStarted({
      ...base,
      links: [{ linkType: 'RELATION', linkKind: 'ARTIFACT', target: { contextId: 'a-1' }, tags: { k: 'v' } }],
    });
    assertSchemaValid(e);
    assert.equal(e.context.links?.length, 1);
  });

  test('a relative engine URL is a configuration error, not an event', () => {
    assert.throws(
      () => buildPipelineRunStarted({ ...base, engineUrl: '/engine' }),
      (e: unknown) => e instanceof PilotageError && e.code === 'CONFIG',
    );
  });

  test('an invalid built event is a thrown bug (INTERNAL), never returned', () => {
    // An empty chain id violates `minLength: 1`: the builder must refuse to return it.
    assert.throws(
      () => buildPipelineRunStarted({ ...base, chainId: '' }),
      (e: unknown) => e instanceof PilotageError && e.code === 'INTERNAL' && /\/context\/chainId/.test(e.message),
    );
    assert.throws(() => assertValidCdevent({ context: {}, subject: {} }), PilotageError);
  });

  test('toOutboxEvent: id, run, type, time, and the event itself as payload (plain JSON already)', () => {
    const e = buildPipelineRunQueued(base);
    const row = toOutboxEvent(e, base.runId);
    assert.equal(row.id, e.context.id);
    assert.equal(row.runId, base.runId);
    assert.equal(row.type, 'dev.cdevents.pipelinerun.queued.0.3.0');
    assert.equal(row.createdAt, base.timestamp);
    assert.deepEqual(row.payload, JSON.parse(JSON.stringify(e)), 'what is stored is what is sent');
    assert.equal(row.payload, e as unknown, 'not copied');
    assert.equal(toOutboxEvent(e, null).runId, null);
  });
});
