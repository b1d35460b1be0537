import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { httpSink } from '../src/events/sinks/http-sink.js';
import { consoleSink } from '../src/events/sinks/console-sink.js';
import { fileSink } from '../src/events/sinks/file-sink.js';
import { sinkFromTarget } from '../src/events/sinks/sink-from-target.js';
import { SinkError } from '../src/events/sinks/sink.js';
import { buildPipelineRunFinished, buildTaskRunStarted, toOutboxEvent } from '../src/events/builders.js';
import { parseIncomingCdevent } from '../src/events/incoming.js';
import { ConfigError } from '../src/domain/errors.js';
import type { OutboxRecord } from '../src/store/types.js';
import type { CDEvent } from '../src/events/types.js';
import { startReceiver, type TestReceiver } from './events-test-server.js';

const base = {
  engineUrl: 'http://127.0.0.1:8080',
  workflow: 'wf',
  runId: 'run-1',
  chainId: 'chain-1',
  timestamp: Date.UTC(2026, 1, 3, 4, 5, 6, 789),
};

function record(
  seq: number,
  event: CDEvent<object> = buildPipelineRunFinished({ ...base, outcome: 'failure', errors: 'unit failed' }),
): OutboxRecord {
  return { ...toOutboxEvent(event, base.runId), seq, runSeq: seq };
}

describe('HTTP sink against a real server', () => {
  const receivers: TestReceiver[] = [];
  after(async () => {
    for (const r of receivers) await r.close();
  });
  const receiver = async (): Promise<TestReceiver> => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };

  test('binary mode: ce-* headers from the CDEvent, the CDEvent as JSON body, extra headers', async () => {
    const r = await receiver();
    const sink = httpSink({ url: r.url, headers: { Authorization: 'Bearer s3cret', 'ce-type': 'must-not-win' } });
    const event = record(1);
    await sink.send(event);
    assert.equal(r.requests.length, 1);
    const got = r.requests[0]!;
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/events');
    const ctx = event.payload.context as Record<string, string>;
    assert.equal(got.headers['ce-specversion'], '1.0');
    assert.equal(got.headers['ce-id'], ctx.id);
    assert.equal(got.headers['ce-source'], 'http://127.0.0.1:8080/workflows/wf');
    assert.equal(got.headers['ce-type'], 'dev.cdevents.pipelinerun.finished.0.3.0');
    assert.equal(got.headers['ce-subject'], 'run-1');
    assert.equal(
      got.headers['ce-time'],
      '2026-02-03T04:05:06.789Z',
      'ce-time is the CDEvent timestamp, not the send time',
    );
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers.authorization, 'Bearer s3cret');
    assert.deepEqual(JSON.parse(got.body), event.payload);
    // The receiving side of our own engine accepts it unchanged.
    const parsed = parseIncomingCdevent({ headers: got.headers, body: got.body });
    assert.deepEqual(parsed.ok && parsed.event, event.payload);
  });

  test('structured mode: a CloudEvents JSON envelope with the CDEvent in data', async () => {
    const r = await receiver();
    const sink = httpSink({ url: r.url, mode: 'structured', headers: { 'X-Team': 'platform' } });
    const event = record(2, buildTaskRunStarted({ ...base, taskRunId: 'task-1', taskName: 'unit' }));
    await sink.send(event);
    const got = r.requests[0]!;
    assert.equal(got.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
    assert.equal(got.headers['x-team'], 'platform');
    assert.equal(got.headers['ce-id'], undefined);
    const envelope = JSON.parse(got.body) as Record<string, unknown>;
    assert.equal(envelope.specversion, '1.0');
    assert.equal(envelope.id, (event.payload.context as Record<string, string>).id);
    assert.equal(envelope.type, 'dev.cdevents.taskrun.started.0.3.0');
    assert.equal(envelope.subject, 'task-1');
    assert.equal(envelope.datacontenttype, 'application/json');
    assert.deepEqual(envelope.data, event.payload);
    const parsed = parseIncomingCdevent({ headers: got.headers, body: got.body });
    assert.deepEqual(parsed.ok && parsed.event, event.payload);
  });

  test('a retried send carries the same id and time', async () => {
    const r = await receiver();
    const sink = httpSink({ url: r.url });
    const event = record(3);
    await sink.send(event);
    await sink.send(event);
    assert.equal(r.requests[0]!.headers['ce-id'], r.requests[1]!.headers['ce-id']);
    assert.equal(r.requests[0]!.headers['ce-time'], r.requests[1]!.headers['ce-time']);
    assert.equal(r.requests[0]!.body, r.requests[1]!.body);
  });

  test('any non-2xx answer is a failure naming status and text', async () => {
    const r = await receiver();
    const sink = httpSink({ url: r.url, name: 'audit' });
    for (const [status, text] of [
      [503, 'Service Unavailable'],
      [400, 'Bad Request'],
      [302, 'Found'],
    ] as const) {
      r.respond = () => ({ status, body: 'go away' });
      await assert.rejects(sink.send(record(4)), (e: unknown) => {
        assert.ok(e instanceof SinkError);
        assert.equal(e.sink, 'audit');
        assert.equal(e.status, status);
        assert.match(e.message, new RegExp(`answered ${status} ${text}: go away`));
        return true;
      });
    }
    r.respond = () => ({ status: 202 });
    await sink.send(record(5));
  });

  test('a server that is down or does not answer in time is a failure', async () => {
    const r = await receiver();
    const url = r.url;
    await r.close();
    await assert.rejects(
      httpSink({ url }).send(record(6)),
      (e: unknown) => e instanceof SinkError && /ECONNREFUSED/.test(e.message),
    );
    const slow = await receiver();
    slow.respond = () => 'hang';
    await assert.rejects(
      httpSink({ url: slow.url, timeoutMs: 150 }).send(record(7)),
      (e: unknown) => e instanceof SinkError && /no answer within 150 ms/.test(e.message),
    );
  });

  test('type filter and configuration errors', () => {
    const sink = httpSink({ url: 'http://127.0.0.1:1/x', types: ['dev.cdevents.pipelinerun.*'] });
    assert.equal(sink.name, 'http://127.0.0.1:1/x');
    assert.equal(sink.accepts('dev.cdevents.pipelinerun.started.0.3.0'), true);
    assert.equal(sink.accepts('dev.cdevents.taskrun.started.0.3.0'), false);
    assert.throws(() => httpSink({ url: 'not a url' }), ConfigError);
    assert.throws(() => httpSink({ url: 'ftp://example.com/' }), ConfigError);
  });
});

describe('console and file sinks', () => {
  test('console sink writes one JSON line per event', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const sink = consoleSink({ stream, types: ['dev.cdevents.pipelinerun.*'] });
    assert.equal(sink.name, 'console');
    const first = record(1);
    await sink.send(first);
    await sink.send(record(2));
    const lines = chunks.join('').split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.deepEqual(JSON.parse(lines[0]!), first.payload);
    assert.equal(sink.accepts('dev.cdevents.taskrun.started.0.3.0'), false);
  });

  test('console sink reports a broken stream', async () => {
    const stream = new PassThrough();
    stream.destroy();
    await assert.rejects(consoleSink({ stream }).send(record(1)), SinkError);
  });

  test('file sink appends JSON lines and reports unwritable paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-events-'));
    try {
      const path = join(dir, 'events.jsonl');
      const sink = fileSink({ path });
      assert.equal(sink.name, `file:${path}`);
      await sink.send(record(1));
      await sink.send(record(2, buildTaskRunStarted({ ...base, taskRunId: 't', taskName: 'n' })));
      const lines = (await readFile(path, 'utf8')).split('\n');
      assert.equal(lines.length, 3);
      assert.equal(
        (JSON.parse(lines[1]!) as { context: { type: string } }).context.type,
        'dev.cdevents.taskrun.started.0.3.0',
      );
      await assert.rejects(fileSink({ path: join(dir, 'missing', 'x.jsonl') }).send(record(3)), SinkError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('sinkFromTarget picks the sink from the --events value', () => {
    assert.equal(sinkFromTarget('stdout').name, 'console');
    assert.equal(sinkFromTarget('-').name, 'console');
    assert.equal(sinkFromTarget('http://127.0.0.1:9/e').name, 'http://127.0.0.1:9/e');
    assert.match(sinkFromTarget('out/events.jsonl').name, /^file:\/.*out\/events\.jsonl$/);
  });
});
