import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Masker } from '../domain/masker.js';
import { NO_SPAN, type TraceAttributes, type TraceSpan } from './ports.js';
import { endSpanAs, maskedSpan, tracedStep } from './trace-span.js';

/** A span that records what it is told, children included. */
interface Recorded {
  readonly name: string;
  readonly attributes: Record<string, unknown>;
  readonly events: { name: string; attributes?: TraceAttributes }[];
  readonly children: Recorded[];
  ended?: { error?: string };
}

function recordingSpan(name: string, attributes: TraceAttributes = {}): { span: TraceSpan; record: Recorded } {
  const record: Recorded = { name, attributes: { ...attributes }, events: [], children: [] };
  const span: TraceSpan = {
    context: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    child(childName, childAttributes) {
      const child = recordingSpan(childName, childAttributes);
      record.children.push(child.record);
      return child.span;
    },
    event: (eventName, eventAttributes) =>
      void record.events.push({ name: eventName, ...(eventAttributes ? { attributes: eventAttributes } : {}) }),
    set: (more) => void Object.assign(record.attributes, more),
    end: (error) => void (record.ended = error === undefined ? {} : { error }),
  };
  return { span, record };
}

test('maskedSpan masks every name, attribute, event and error, in children too', () => {
  const { span, record } = recordingSpan('run');
  const masked = maskedSpan(span, new Masker(['s3cret-value']));
  const child = masked.child('stage s3cret-value', { note: 'has s3cret-value', count: 3 });
  child.event('saw s3cret-value', { why: 'because s3cret-value' });
  child.set({ 'pilotage.reason': 'token s3cret-value refused' });
  child.end('failed with s3cret-value');
  masked.end();
  assert.ok(!JSON.stringify(record).includes('s3cret-value'), JSON.stringify(record));
  const [stage] = record.children;
  assert.equal(stage?.name, 'stage ***');
  assert.deepEqual(stage?.attributes, { note: 'has ***', count: 3, 'pilotage.reason': 'token *** refused' });
  assert.deepEqual(stage?.events, [{ name: 'saw ***', attributes: { why: 'because ***' } }]);
  assert.deepEqual(stage?.ended, { error: 'failed with ***' });
  assert.equal(masked.context?.traceparent, span.context?.traceparent, 'the context passes through');
});

test('maskedSpan returns the span itself when there is nothing to mask or nothing recorded', () => {
  const { span } = recordingSpan('run');
  assert.equal(maskedSpan(span, new Masker([])), span);
  assert.equal(maskedSpan(NO_SPAN, new Masker(['s3cret-value'])), NO_SPAN);
});

test('endSpanAs: failed and errored are errors; cancelled and skipped are not', () => {
  for (const [state, error] of [
    ['failed', 'exit 1'],
    ['errored', 'could not start'],
    ['cancelled', undefined],
    ['succeeded', undefined],
    ['skipped', undefined],
  ] as const) {
    const { span, record } = recordingSpan('x');
    endSpanAs(span, state, error ?? 'a reason');
    assert.equal(record.attributes['pilotage.state'], state);
    assert.deepEqual(record.ended, error === undefined ? {} : { error });
  }
});

test('tracedStep: a child span ended when the step settles, failed with its error', async () => {
  const { span, record } = recordingSpan('attempt');
  assert.equal(await tracedStep(span, 'image pull', async () => 42), 42);
  await assert.rejects(
    tracedStep(span, 'container start', async () => {
      throw new Error('no such image');
    }),
    /no such image/,
  );
  assert.deepEqual(
    record.children.map((c) => [c.name, c.ended]),
    [
      ['image pull', {}],
      ['container start', { error: 'no such image' }],
    ],
  );
  assert.equal(await tracedStep(NO_SPAN, 'untraced', async () => 'direct'), 'direct');
});
