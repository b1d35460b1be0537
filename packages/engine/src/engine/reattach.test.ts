import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogLine } from '../executor/executor.js';
import { skipStoredLines } from './reattach.js';

const line = (stream: LogLine['stream'], text: string): LogLine => ({ stream, line: text, ts: 0 });

test('lines replayed from the last stored second are not delivered twice, per stream', () => {
  const delivered: string[] = [];
  const onLog = skipStoredLines(
    (l) => delivered.push(`${l.stream}:${l.line}`),
    [
      { stream: 'stdout', line: 'a' },
      { stream: 'stderr', line: 'warn' },
      { stream: 'stdout', line: 'b' },
    ],
  );
  for (const l of [
    line('stdout', 'a'),
    line('stderr', 'warn'),
    line('stdout', 'b'),
    line('stdout', 'c'),
    line('stderr', 'late'),
    line('stdout', 'a'),
  ]) {
    onLog(l);
  }
  assert.deepEqual(delivered, ['stdout:c', 'stderr:late', 'stdout:a'], 'a repeated line after new ones is new');
});

test('stored lines the runtime does not replay (read in a later second) do not swallow new ones', () => {
  const delivered: string[] = [];
  // `x` was written in the previous second but stored with this second's time: not replayed
  const onLog = skipStoredLines(
    (l) => delivered.push(l.line),
    [
      { stream: 'stdout', line: 'x' },
      { stream: 'stdout', line: 'y' },
    ],
  );
  for (const l of [line('stdout', 'y'), line('stdout', 'z'), line('stdout', 'x')]) onLog(l);
  assert.deepEqual(delivered, ['z', 'x']);
});

test('with nothing stored, every line is delivered', () => {
  const delivered: string[] = [];
  const onLog = skipStoredLines((l) => delivered.push(l.line), []);
  for (const l of [line('stdout', 'one'), line('stderr', 'two')]) onLog(l);
  assert.deepEqual(delivered, ['one', 'two']);
});
