import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTraceContext, spanIdOf, traceContextOfHeaders, traceIdOf } from './trace-context.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('a valid traceparent, with and without tracestate', () => {
  assert.deepEqual(parseTraceContext(VALID), { traceparent: VALID });
  assert.deepEqual(parseTraceContext(` ${VALID} `, 'a=1,b=2'), { traceparent: VALID, tracestate: 'a=1,b=2' });
  assert.deepEqual(parseTraceContext(VALID, ['a=1', 'b=2']), { traceparent: VALID, tracestate: 'a=1,b=2' });
  const context = parseTraceContext(VALID)!;
  assert.equal(traceIdOf(context), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(spanIdOf(context), '00f067aa0ba902b7');
});

test('invalid values are ignored, never an error', () => {
  for (const bad of [
    undefined,
    '',
    'garbage',
    VALID.toUpperCase(),
    `ff${VALID.slice(2)}`,
    `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
    `${VALID}-extra`,
    '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
  ]) {
    assert.equal(parseTraceContext(bad), undefined, String(bad));
  }
  assert.equal(parseTraceContext([VALID, VALID]), undefined, 'two traceparent headers are ambiguous');
});

test("a later version's extra fields are cut off; an over-long tracestate is dropped", () => {
  const later = `01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next`;
  assert.deepEqual(parseTraceContext(later), { traceparent: later.slice(0, 55) });
  assert.deepEqual(parseTraceContext(VALID, 'x'.repeat(9000)), { traceparent: VALID });
});

test('from request headers', () => {
  assert.deepEqual(traceContextOfHeaders({ traceparent: VALID, tracestate: 'v=1' }), {
    traceparent: VALID,
    tracestate: 'v=1',
  });
  assert.equal(traceContextOfHeaders({}), undefined);
});
