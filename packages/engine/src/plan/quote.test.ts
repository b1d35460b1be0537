import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quoteForMessage } from './quote.js';

describe('quoteForMessage', () => {
  test('quotes a short text whole', () => {
    assert.equal(quoteForMessage('Pipeline'), '"Pipeline"');
  });
  test('cuts a long text in the middle and gives its length', () => {
    const text = `start${'y'.repeat(1_000_000)}end`;
    const quoted = quoteForMessage(text, 21);
    assert.equal(quoted, `"startyyyyy…yyyyyyyend" (1000008 characters)`);
  });
});
