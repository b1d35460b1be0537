import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createApiClient } from '../src/cli/api-client.js';
import { sseEvents, type SseEvent } from '../src/cli/sse-events.js';
import { newId } from '../src/domain/ids.js';
import { applyWorkflow, GATED_WORKFLOW, waitForEnd, waitForRun } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

const LIVE = `inputs: { type: object, properties: { gate: { type: string } } }
stages:
  - name: work
    actions:
      - name: step
        with: "\${{ inputs }}"
        run: |
          post() { curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          post "$CO_COMPONENT_START" '{}'
          post "$CO_TASK_START" '{}'
          post "$CO_TASK_STATUS" '{"message":"halfway","progress":0.5,"output":{"step":1}}'
          while [ ! -f "$CO_INPUT_GATE" ]; do sleep 0.05; done
          post "$CO_TASK_RESULT" '{"status":"success","output":{"done":"yes"}}'
          post "$CO_COMPONENT_STOP" '{}'
  - name: finish
    actions:
      - name: last
        run: echo bye
`;

const CHATTY = `inputs: { type: object, properties: { gate: { type: string } } }
stages:
  - name: talk
    actions:
      - name: talk
        with: "\${{ inputs }}"
        run: |
          for i in 1 2 3 4 5; do echo "line $i"; done
          while [ ! -f "$CO_INPUT_GATE" ]; do sleep 0.05; done
          for i in 6 7 8 9 10; do echo "line $i"; done
`;

/** Read events from `iterator` until `stop` says so (inclusive), with a deadline. */
async function readUntil(
  iterator: AsyncGenerator<SseEvent>,
  stop: (event: SseEvent) => boolean,
  seen: SseEvent[] = [],
  timeoutMs = 20_000,
): Promise<SseEvent[]> {
  // (a generator's `return()` waits for the pending `next()`: the deadline races it instead)
  let deadline: NodeJS.Timeout | undefined;
  const expired = new Promise<IteratorResult<SseEvent>>((resolve) => {
    deadline = setTimeout(() => resolve({ done: true, value: undefined }), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), expired]);
      if (next.done) return seen;
      seen.push(next.value);
      if (stop(next.value)) return seen;
    }
  } finally {
    clearTimeout(deadline);
  }
}

describe('live updates over SSE (real HTTP)', () => {
  let h: ApiHarness;
  let reader: string;
  before(async () => {
    h = await createApiHarness();
    reader = await h.token('read');
    await applyWorkflow(h, 'live', LIVE);
    await applyWorkflow(h, 'chatty', CHATTY);
  });
  after(async () => h.close());

  test('GET /v1/runs/:id/events: a snapshot, state changes, interim status, then end; the server closes it', async () => {
    const gate = join(h.dir, 'gate-live');
    const started = await h.call('POST', '/v1/workflows/live/runs', { body: { data: { gate } } });
    assert.equal(started.status, 201);
    const client = createApiClient(h.server.url, reader);
    const stream = await client.stream(`/v1/runs/${started.body.id}/events`);
    const res = stream as unknown as { headers: Record<string, string> };
    assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/);
    const iterator = sseEvents(stream);
    const events = await readUntil(iterator, (e) => e.event === 'status');
    await writeFile(gate, '');
    await readUntil(iterator, () => false, events);
    const names = events.map((e) => e.event);
    assert.equal(names[0], 'snapshot');
    const snapshot = events[0]!.data as any;
    assert.equal(snapshot.run.id, started.body.id);
    assert.deepEqual(
      snapshot.stages.map((s: any) => s.name),
      ['work', 'finish'],
    );
    assert.equal(snapshot.run.plan, undefined);
    assert.deepEqual(names.slice(-2), ['run', 'end']);
    const end = events.at(-1)!.data as any;
    assert.equal(end.run.state, 'succeeded');

    const status = events.find((e) => e.event === 'status')!.data as any;
    assert.equal(status.task.action, 'step');
    assert.deepEqual(
      { message: status.status.message, progress: status.status.progress, output: status.status.output },
      { message: 'halfway', progress: 0.5, output: { step: 1 } },
    );
    const taskStates = (action: string) =>
      events
        .filter((e) => e.event === 'task' && (e.data as any).task.action === action)
        .map((e) => (e.data as any).task.state);
    assert.ok(taskStates('step').includes('running'), JSON.stringify(taskStates('step')));
    assert.equal(taskStates('step').at(-1), 'succeeded');
    assert.equal(taskStates('last').at(-1), 'succeeded');
    const runStates = events.filter((e) => e.event === 'run').map((e) => (e.data as any).run.state);
    assert.deepEqual(runStates.at(-1), 'succeeded');
    assert.ok(!runStates.includes('queued') || runStates.indexOf('queued') < runStates.indexOf('running'));
    assert.ok(!events.some((e) => e.event === 'task' && (e.data as any).task.tokenHash !== undefined));

    // an ended run: the snapshot, then end at once
    const again = [];
    for await (const event of sseEvents(await client.stream(`/v1/runs/${started.body.id}/events`))) again.push(event);
    assert.deepEqual(
      again.map((e) => e.event),
      ['snapshot', 'end'],
    );
  });

  test('run events: 404 for an unknown run, 401 without a token (plain JSON errors)', async () => {
    await assert.rejects(createApiClient(h.server.url, reader).stream('/v1/runs/01NOPE/events'), { code: 'NOT_FOUND' });
    await assert.rejects(createApiClient(h.server.url, undefined).stream('/v1/runs/01NOPE/events'), {
      code: 'UNAUTHORIZED',
    });
    const inject = await h.call('GET', '/v1/runs/01NOPE/events', { token: reader });
    assert.equal(inject.status, 404);
  });

  test('GET /v1/runs/events: every run as it is created and changes, in order; other runs too', async () => {
    const client = createApiClient(h.server.url, reader);
    const stream = await client.stream('/v1/runs/events');
    const iterator = sseEvents(stream);
    const gate = join(h.dir, 'gate-list');
    const started = await h.call('POST', '/v1/workflows/live/runs', { body: { data: { gate } } });
    const other = await h.call('POST', '/v1/workflows/chatty/runs', {
      body: { data: { gate: join(h.dir, 'gate-list-2') } },
    });
    const mine = (e: SseEvent, id: string) => e.event === 'run' && (e.data as any).run.id === id;
    const events = await readUntil(
      iterator,
      (e) => mine(e, started.body.id) && (e.data as any).run.state === 'running',
    );
    await writeFile(gate, '');
    await readUntil(iterator, (e) => mine(e, started.body.id) && (e.data as any).run.state === 'succeeded', events);
    (stream as unknown as { destroy(): void }).destroy();
    await writeFile(join(h.dir, 'gate-list-2'), '');
    await waitForEnd(h, other.body.id);

    assert.ok(
      events.every((e) => e.event === 'run'),
      JSON.stringify(events.map((e) => e.event)),
    );
    const states = events.filter((e) => mine(e, started.body.id)).map((e) => (e.data as any).run.state);
    // a run may change without changing state (its owner): its states in order, each once
    assert.deepEqual(
      states.filter((state, i) => state !== states[i - 1]),
      ['queued', 'running', 'succeeded'],
    );
    assert.ok(
      events.some((e) => mine(e, other.body.id)),
      'the other run shows too',
    );
    const last = events.at(-1)!.data as any;
    assert.equal(last.run.workflow, 'live');
    assert.equal(last.run.plan, undefined, 'a run as the API shows it');
    assert.ok(last.run.endedAt !== null);
    await assert.rejects(createApiClient(h.server.url, undefined).stream('/v1/runs/events'), { code: 'UNAUTHORIZED' });
  });

  test('a log stream follows a running task, and resumes with Last-Event-ID after a dropped connection', async () => {
    const gate = join(h.dir, 'gate-chatty');
    const started = await h.call('POST', '/v1/workflows/chatty/runs', { body: { data: { gate } } });
    const runId = started.body.id;
    const detail = await waitForRun(h, runId, (d) => d.actions[0].attempts[0]?.state === 'running');
    const taskId = detail.actions[0].attempts[0].id;
    const client = createApiClient(h.server.url, reader);
    const path = `/v1/runs/${runId}/tasks/${taskId}/logs/stream`;

    const first = await client.stream(path);
    const firstEvents = await readUntil(sseEvents(first), (e) => e.event === 'log' && (e.data as any).seq === 5);
    (first as unknown as { destroy(): void }).destroy();
    assert.deepEqual(
      firstEvents.map((e) => [e.id, (e.data as any).line]),
      [1, 2, 3, 4, 5].map((n) => [String(n), `line ${n}`]),
    );

    // the client "lost" lines 4 and 5: it resumes from the last id it kept
    const resumed = await client.stream(path, { 'last-event-id': '3' });
    const iterator = sseEvents(resumed);
    const before = await readUntil(iterator, (e) => e.event === 'log' && (e.data as any).seq === 5);
    await writeFile(gate, '');
    const rest = await readUntil(iterator, (e) => e.event === 'end', before);
    const logs = rest.filter((e) => e.event === 'log').map((e) => e.data as any);
    assert.deepEqual(
      logs.map((l) => l.seq),
      [4, 5, 6, 7, 8, 9, 10],
    );
    assert.deepEqual(
      logs.map((l) => l.line),
      [4, 5, 6, 7, 8, 9, 10].map((n) => `line ${n}`),
    );
    assert.ok(rest.filter((e) => e.event === 'log').every((e) => e.id === String((e.data as any).seq)));
    assert.deepEqual(rest.at(-1)!.data, { state: 'succeeded', lastSeq: 10 });
    assert.equal((await iterator.next()).done, true, 'the server closed the stream after end');
    await waitForEnd(h, runId);

    // an ended task from ?after: the rest, then end
    const tail: SseEvent[] = [];
    for await (const event of sseEvents(await client.stream(`${path}?after=8`))) tail.push(event);
    assert.deepEqual(
      tail.map((e) => (e.event === 'log' ? (e.data as any).seq : e.event)),
      [9, 10, 'end'],
    );
  });

  test('log stream: 400 naming a bad Last-Event-ID, 404 for a task run of another run, 401', async () => {
    const runs = (await h.call('GET', '/v1/runs?workflow=chatty&limit=1')).body.runs;
    const detail = (await h.call('GET', `/v1/runs/${runs[0].id}`)).body;
    const taskId = detail.actions[0].attempts[0].id;
    const bad = await h.call('GET', `/v1/runs/${runs[0].id}/tasks/${taskId}/logs/stream`, {
      token: reader,
      headers: { 'last-event-id': 'abc' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.body.details.map((d: any) => d.field),
      ['headers.last-event-id'],
    );
    const other = (await h.call('GET', '/v1/runs?workflow=live&limit=1')).body.runs[0];
    assert.equal(
      (await h.call('GET', `/v1/runs/${other.id}/tasks/${taskId}/logs/stream`, { token: reader })).status,
      404,
    );
    assert.equal(
      (await h.call('GET', `/v1/runs/${runs[0].id}/tasks/${taskId}/logs/stream`, { token: null })).status,
      401,
    );
  });

  test('a client that goes away is unsubscribed (the engine keeps no listener for it)', async () => {
    const gate = join(h.dir, 'gate-leave');
    const started = await h.call('POST', '/v1/workflows/live/runs', { body: { data: { gate } } });
    const engine = h.server.runtime.engine as unknown as { listeners: Set<unknown> };
    const baseline = engine.listeners.size;
    const url = new URL(`/v1/runs/${started.body.id}/events`, h.server.url);
    const req = request(url, { headers: { authorization: `Bearer ${reader}` } });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    await new Promise<void>((resolve) => res.once('data', () => resolve()));
    assert.equal(engine.listeners.size, baseline + 1);
    req.destroy();
    const deadline = Date.now() + 5000;
    while (engine.listeners.size !== baseline) {
      assert.ok(Date.now() < deadline, 'the listener was removed');
      await new Promise((r) => setTimeout(r, 20));
    }
    await writeFile(gate, '');
    await waitForEnd(h, started.body.id);
  });
});

/**
 * Run `statement` with `parameter` on the SQLite file `db` from another Node process (the server
 * runs in this one: a write from here would wait on the server's open transaction while keeping
 * it from committing); the number of rows it changed.
 */
async function writeFromAnotherProcess(db: string, statement: string, parameter: string): Promise<number> {
  const script = `const db = new (require('better-sqlite3'))(process.argv[1]);
db.pragma('busy_timeout = 10000');
process.stdout.write(String(db.prepare(process.argv[2]).run(process.argv[3]).changes));
db.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, db, statement, parameter], {
    cwd: import.meta.dirname,
  });
  return Number(stdout);
}

describe('run streams read their runs again at each heartbeat (real HTTP, real SQLite file)', () => {
  let h: ApiHarness;
  let reader: string;
  before(async () => {
    h = await createApiHarness({ options: { sseHeartbeatMs: 150 } });
    reader = await h.token('read');
    await applyWorkflow(h, 'held', GATED_WORKFLOW);
  });
  after(async () => h.close());

  /** `run` events of run `id` */
  const runEventOf = (e: SseEvent, id: string): boolean => e.event === 'run' && (e.data as any).run.id === id;

  /**
   * The run list stream, once it showed a `held` run (waiting for its gate file `gateName`)
   * running; `end` closes the stream and lets the run finish.
   */
  const listStreamWithHeldRun = async (gateName: string) => {
    const stream = await createApiClient(h.server.url, reader).stream('/v1/runs/events');
    const iterator = sseEvents(stream);
    const gate = join(h.dir, gateName);
    const started = await h.call('POST', '/v1/workflows/held/runs', { body: { data: { gate } } });
    assert.equal(started.status, 201);
    const runId = started.body.id as string;
    await readUntil(iterator, (e) => runEventOf(e, runId) && (e.data as any).run.state === 'running');
    const end = async (): Promise<void> => {
      (stream as unknown as { destroy(): void }).destroy();
      await writeFile(gate, '');
    };
    return { iterator, runId, end };
  };

  test('a change written by another process with no notification shows at the next heartbeat, once', async () => {
    const gate = join(h.dir, 'gate-held');
    const started = await h.call('POST', '/v1/workflows/held/runs', { body: { data: { gate } } });
    assert.equal(started.status, 201);
    const runId = started.body.id as string;
    const stream = await createApiClient(h.server.url, reader).stream(`/v1/runs/${runId}/events`);
    const iterator = sseEvents(stream);
    const isRunning = (e: SseEvent) =>
      (e.event === 'snapshot' && (e.data as any).tasks.some((t: any) => t.state === 'running')) ||
      (e.event === 'task' && (e.data as any).task.state === 'running');
    const events = await readUntil(iterator, isRunning);
    assert.ok(events.some(isRunning), JSON.stringify(events));
    // another process (a replica whose notification was lost) records a later state: this
    // server's engine and change feed know nothing of it
    const changed = await writeFromAnotherProcess(
      join(h.dir, 'pilotage.db'),
      "update task_runs set state = 'succeeded', previous_state = state where run_id = ? and action = 'block'",
      runId,
    );
    assert.equal(changed, 1);
    const seen = await readUntil(iterator, (e) => e.event === 'task' && (e.data as any).task.state === 'succeeded');
    assert.equal(seen.at(-1)?.event, 'task', `the next heartbeat shows the change: ${JSON.stringify(seen)}`);
    assert.equal((seen.at(-1)!.data as any).task.state, 'succeeded');
    // later heartbeats (four or so) send nothing more for what the stream already shows
    const later: SseEvent[] = [];
    const reading = readUntil(iterator, () => false, later).catch(() => later);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.deepEqual(
      later.filter((e) => e.event === 'task'),
      [],
    );
    (stream as unknown as { destroy(): void }).destroy();
    await reading;
    await writeFile(gate, '');
  });

  test('the run list stream reads the unfinished runs it showed again at each heartbeat', async () => {
    const { iterator, runId, end } = await listStreamWithHeldRun('gate-list-held');
    const stateOf = (e: SseEvent) => (runEventOf(e, runId) ? (e.data as any).run.state : '');
    // another process ends the run, and its notification is lost
    const changed = await writeFromAnotherProcess(
      join(h.dir, 'pilotage.db'),
      "update runs set state = 'failed' where id = ?",
      runId,
    );
    assert.equal(changed, 1);
    const seen = await readUntil(iterator, (e) => stateOf(e) === 'failed');
    const last = seen.at(-1);
    assert.equal(last && stateOf(last), 'failed', `the next heartbeat shows the change: ${JSON.stringify(seen)}`);
    await end();
  });

  test('the run list stream shows at the next heartbeat a run it never heard of, once', async () => {
    const { iterator, runId: template, end } = await listStreamWithHeldRun('gate-list-unheard');
    // another process (a replica whose notifications were all lost) records a run, already ended:
    // this server's engine and change feed know nothing of it
    const unheard = newId();
    const inserted = await writeFromAnotherProcess(
      join(h.dir, 'pilotage.db'),
      `insert into runs (id, workflow, number, workflow_version, state, inputs, plan, trigger_info, chain_id, created_at, ended_at)
       select '${unheard}', workflow, number + 1000, workflow_version, 'failed', inputs, plan, trigger_info, chain_id,
              created_at, created_at from runs where id = ?`,
      template,
    );
    assert.equal(inserted, 1);
    const seen = await readUntil(iterator, (e) => runEventOf(e, unheard));
    const last = seen.at(-1)!;
    assert.ok(runEventOf(last, unheard), `the next heartbeat shows the run: ${JSON.stringify(seen)}`);
    assert.equal((last.data as any).run.state, 'failed');
    // later heartbeats (four or so) send it no more
    const later: SseEvent[] = [];
    const reading = readUntil(iterator, () => false, later).catch(() => later);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.deepEqual(
      later.filter((e) => runEventOf(e, unheard)),
      [],
    );
    await end();
    await reading;
  });
});
