import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { CallbackRegistry } from './registry.js';
import type { ContractStep } from './types.js';

describe('ContractSession', () => {
  test('concurrent calls are processed one at a time, in arrival order', async () => {
    const log: string[] = [];
    let running = 0;
    const session = new CallbackRegistry().register('t', {
      taskRunId: 'TR',
      runId: 'R',
      eventData: {},
      listener: {
        async onStep(accepted) {
          running++;
          assert.equal(running, 1, 'two listener calls overlapped');
          log.push(`begin ${accepted.step}`);
          // the first step is the slowest: without the queue, later steps would overtake it
          await delay(accepted.step === 'component-start' ? 60 : 5);
          log.push(`end ${accepted.step}`);
          running--;
        },
      },
    });
    const steps: ContractStep[] = ['component-start', 'task-start', 'task-status', 'task-result', 'component-stop'];
    const bodies: Record<string, string> = { 'task-result': '{"status":"success"}' };
    const answers = await Promise.all(
      steps.map(async (step) => {
        const answer = await session.submit(step, bodies[step]);
        log.push(`answer ${step}`);
        return answer.status;
      }),
    );
    assert.deepEqual(answers, [200, 200, 200, 200, 200]);
    // each answer comes after its listener call ended (durable before acknowledged)
    for (const step of steps) assert.ok(log.indexOf(`end ${step}`) < log.indexOf(`answer ${step}`), step);
    assert.deepEqual(
      log.filter((l) => l.startsWith('begin')),
      steps.map((s) => `begin ${s}`),
    );
  });

  test('consecutive task-status calls are handed over together; every other call waits for their answers', async () => {
    const log: string[] = [];
    const gates = new Map<string, () => void>();
    const session = new CallbackRegistry().register('t', {
      taskRunId: 'TR',
      runId: 'R',
      eventData: {},
      listener: {
        onStep(accepted) {
          const name = accepted.step === 'task-status' ? `status ${accepted.body.message}` : accepted.step;
          log.push(`begin ${name}`);
          if (accepted.step !== 'task-status') return Promise.resolve();
          // each status is stored only when the test says so; the third one fails to store
          return new Promise<void>((resolve, reject) =>
            gates.set(name, () => (accepted.body.message === '3' ? reject(new Error('disk')) : resolve())),
          );
        },
      },
    });
    assert.equal((await session.submit('component-start', undefined)).status, 200);
    assert.equal((await session.submit('task-start', undefined)).status, 200);
    const answered: string[] = [];
    const note = (name: string) => (answer: { status: number }) => {
      answered.push(`${name} ${answer.status}`);
      return answer.status;
    };
    const statuses = ['1', '2', '3', '4'].map((m) =>
      session.submit('task-status', JSON.stringify({ message: m })).then(note(`status ${m}`)),
    );
    const result = session.submit('task-result', '{"status":"success"}').then(note('task-result'));
    let settled = false;
    const waiting = session.settled().then(() => (settled = true));
    await delay(10);
    // all four handed over, in arrival order, none stored yet; the result waits
    assert.deepEqual(log.slice(2), ['begin status 1', 'begin status 2', 'begin status 3', 'begin status 4']);
    assert.deepEqual(answered, []);
    for (const m of ['2', '1', '3']) gates.get(`status ${m}`)!();
    await delay(10);
    // each is answered once its own write ended (a failed one: 500, the others unaffected)
    assert.deepEqual(answered.sort(), ['status 1 200', 'status 2 200', 'status 3 500']);
    assert.equal(log.includes('begin task-result'), false, 'task-result overtook a status not yet answered');
    assert.equal(settled, false);
    gates.get('status 4')!();
    assert.deepEqual(await Promise.all(statuses), [200, 200, 500, 200]);
    assert.equal(await result, 200);
    await waiting;
    assert.equal(log.at(-1), 'begin task-result');
    assert.equal(session.seen.has('task-status'), true);
    // a status after the result is refused, as before
    assert.equal((await session.submit('task-status', '{}')).status, 409);
  });

  test('a task-status behind a slow non-status call waits for it: the sequence is checked on settled state', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const begun: string[] = [];
    const session = new CallbackRegistry().register('t', {
      taskRunId: 'TR',
      runId: 'R',
      eventData: {},
      listener: {
        onStep(accepted) {
          begun.push(accepted.step);
          return accepted.step === 'task-start' ? gate : Promise.resolve();
        },
      },
    });
    await session.submit('component-start', undefined);
    const start = session.submit('task-start', undefined);
    const status = session.submit('task-status', '{}');
    await delay(10);
    assert.deepEqual(begun, ['component-start', 'task-start']);
    release();
    assert.equal((await start).status, 200);
    assert.equal((await status).status, 200);
    assert.deepEqual(begun, ['component-start', 'task-start', 'task-status']);
  });

  test('settled waits for calls in flight; end refuses later ones and keeps the first state', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const session = new CallbackRegistry().register('t', {
      taskRunId: 'TR',
      runId: 'R',
      eventData: null,
      listener: { onStep: () => gate },
    });
    const inFlight = session.submit('component-start', undefined);
    let settled = false;
    const waiting = session.settled().then(() => (settled = true));
    await delay(10);
    assert.equal(settled, false);
    session.end('failed');
    session.end('succeeded');
    assert.equal(session.isEnded, true);
    assert.equal(session.endedState, 'failed');
    release();
    assert.equal((await inFlight).status, 200);
    await waiting;
    assert.equal(session.seen.has('component-start'), true);
    const late = await session.submit('task-start', undefined);
    assert.equal(late.status, 409);
    assert.equal(!late.body.ok && late.body.state, 'failed');
  });

  test('a body error is answered at once, even behind a slow call', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const session = new CallbackRegistry().register('t', {
      taskRunId: 'TR',
      runId: 'R',
      eventData: null,
      listener: { onStep: () => gate },
    });
    const slow = session.submit('component-start', undefined);
    const bad = await session.submit('task-status', '{"progress":7}');
    assert.equal(bad.status, 400);
    release();
    assert.equal((await slow).status, 200);
  });

  test('cdevent without onCdevent is not supported', async () => {
    const session = new CallbackRegistry().register('t', {
      taskRunId: 'TR',
      runId: 'R',
      eventData: null,
      listener: { onStep: async () => undefined },
    });
    const answer = await session.submit('cdevent', '{"type":"x"}');
    assert.equal(answer.status, 404);
    assert.equal(!answer.body.ok && answer.body.code, 'NOT_SUPPORTED');
  });
});
