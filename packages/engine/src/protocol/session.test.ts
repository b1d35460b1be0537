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
