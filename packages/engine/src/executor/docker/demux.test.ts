import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demuxBuffer } from './demux.js';

const frame = (type: number, text: string): Buffer => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

test('frames of stdout and stderr, in order', () => {
  const frames = demuxBuffer(Buffer.concat([frame(1, 'out1\n'), frame(2, 'err\n'), frame(1, 'out2')]));
  assert.deepEqual(
    frames.map((f) => [f.stream, f.data.toString()]),
    [
      ['stdout', 'out1\n'],
      ['stderr', 'err\n'],
      ['stdout', 'out2'],
    ],
  );
});

test('a body that is not multiplexed (TTY) is stdout; a truncated frame keeps what it has', () => {
  assert.deepEqual(
    demuxBuffer(Buffer.from('plain text\n')).map((f) => [f.stream, f.data.toString()]),
    [['stdout', 'plain text\n']],
  );
  const cut = frame(2, 'abcdef').subarray(0, 11);
  assert.deepEqual(
    demuxBuffer(cut).map((f) => [f.stream, f.data.toString()]),
    [['stderr', 'abc']],
  );
  assert.deepEqual(demuxBuffer(Buffer.alloc(0)), []);
});
