import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import { openSse, SSE_COALESCE_MS } from './sse.js';

/** A hijackable reply whose raw response records each write (one entry per system call). */
function recordingReply() {
  const writes: string[] = [];
  const raw = Object.assign(new EventEmitter(), {
    ended: false,
    writableLength: 0,
    writeHead: () => undefined,
    write: (text: string) => void writes.push(text),
    end: () => void (raw.ended = true),
    destroy: () => undefined,
  });
  const reply = { hijack: () => undefined, raw } as unknown as FastifyReply;
  return { reply, writes: () => writes.slice(1), raw };
}

test('events sent together go out in one write, in order, soon after', async () => {
  const { reply, writes } = recordingReply();
  const stream = openSse(reply, 60_000);
  stream.send('task', { n: 1 });
  stream.send('log', { n: 2 }, 7);
  stream.send('task', { n: 3 });
  assert.deepEqual(writes(), [], 'not written at once');
  await sleep(SSE_COALESCE_MS * 3);
  assert.deepEqual(writes(), [
    'event: task\ndata: {"n":1}\n\nid: 7\nevent: log\ndata: {"n":2}\n\nevent: task\ndata: {"n":3}\n\n',
  ]);
  stream.end();
});

test('end writes what is pending, then ends; nothing is written after', async () => {
  const { reply, writes, raw } = recordingReply();
  const stream = openSse(reply, 60_000);
  stream.send('end', { state: 'succeeded' });
  stream.end();
  assert.deepEqual(writes(), ['event: end\ndata: {"state":"succeeded"}\n\n']);
  assert.equal(raw.ended, true);
  stream.send('task', { late: true });
  await sleep(SSE_COALESCE_MS * 3);
  assert.equal(writes().length, 1);
  assert.equal(stream.open, false);
});

test('a client gone before the flush gets nothing more, and its callbacks run', async () => {
  const { reply, writes, raw } = recordingReply();
  const stream = openSse(reply, 60_000);
  let closed = 0;
  stream.onClose(() => (closed += 1));
  stream.send('task', { n: 1 });
  raw.emit('close');
  await sleep(SSE_COALESCE_MS * 3);
  assert.deepEqual(writes(), []);
  assert.equal(closed, 1);
});

test('a backlog past 64 KiB is written at once, without waiting', () => {
  const { reply, writes } = recordingReply();
  const stream = openSse(reply, 60_000);
  const line = 'x'.repeat(1000);
  for (let i = 0; i < 70; i++) stream.send('log', { line });
  assert.equal(writes().length, 1, 'written when it passed 64 KiB');
  assert.ok(writes()[0]!.length > 64 * 1024);
  stream.end();
  assert.equal(writes().length, 2, 'the rest at the end');
});
