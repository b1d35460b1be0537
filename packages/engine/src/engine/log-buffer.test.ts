import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogStore, NewLogLine } from '../store/types.js';
import { LogBuffer } from './log-buffer.js';

/** A LogStore whose appends each wait for `release()`, and fail while `failing` is set. */
function slowStore() {
  const written: string[] = [];
  const underWay: (() => void)[] = [];
  let onBegin: (() => void) | undefined;
  const state = { failing: false, calls: 0 };
  const store: Pick<LogStore, 'append'> = {
    async append(_id: string, lines: readonly NewLogLine[]) {
      state.calls += 1;
      await new Promise<void>((resolve) => {
        underWay.push(resolve);
        onBegin?.();
      });
      if (state.failing) throw new Error('disk full');
      written.push(...lines.map((l) => l.line));
      return written.length;
    },
  };
  return {
    store: store as LogStore,
    written,
    state,
    /** resolves once an append is under way */
    begun: () => new Promise<void>((resolve) => (underWay.length > 0 ? resolve() : (onBegin = resolve))),
    /** let the oldest append under way finish */
    release: () => underWay.shift()?.(),
  };
}

const line = (text: string): NewLogLine => ({ at: 1, stream: 'stdout', line: text });

test('take waits for the write under way, then hands over what it did not write', async () => {
  const s = slowStore();
  const buffer = new LogBuffer(s.store, 't1', 60_000);
  buffer.push(line('a'));
  const flushing = buffer.flush();
  await s.begun();
  buffer.push(line('b'));
  let handedOver = false;
  const taken = buffer.take().then((lines) => {
    handedOver = true;
    return lines;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(handedOver, false, 'take waits while a write is under way');
  s.release();
  await flushing;
  assert.deepEqual(
    (await taken).map((l) => l.line),
    ['b'],
  );
  assert.deepEqual(s.written, ['a'], 'the store wrote only the first batch');
  assert.deepEqual(await buffer.take(), [], 'taken lines are no longer the buffer’s');
});

test('lines of a failed write are handed over by take, and no error is left for close', async () => {
  const s = slowStore();
  s.state.failing = true;
  const buffer = new LogBuffer(s.store, 't1', 60_000);
  buffer.push(line('a'));
  const flushing = buffer.flush();
  await s.begun();
  s.release();
  await flushing;
  assert.deepEqual(
    (await buffer.take()).map((l) => l.line),
    ['a'],
  );
  await buffer.close();
  assert.equal(s.state.calls, 1, 'nothing left to write');
});

test('take stops the pending timer: lines taken are never written by it', async () => {
  const s = slowStore();
  const buffer = new LogBuffer(s.store, 't1', 1);
  buffer.push(line('a'));
  assert.deepEqual(
    (await buffer.take()).map((l) => l.line),
    ['a'],
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(s.state.calls, 0);
});
