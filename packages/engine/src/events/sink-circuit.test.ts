import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { circuitMessage, SinkCircuit } from './sink-circuit.js';
import { SinkError } from './sinks/sink.js';

const down = { error: new SinkError('hook', 'POST failed: ECONNREFUSED') };
const status = (code: number) => ({ error: new SinkError('hook', `answered ${code}`, { status: code }) });

function circuit() {
  const clock = { now: 1_000 };
  return { clock, c: new SinkCircuit({ failures: 3, firstWaitMs: 100, maxWaitMs: 350, now: () => clock.now }) };
}

describe('SinkCircuit', () => {
  it('opens after the failures in a row, waits, lets one probe through, doubles the wait up to the cap', async () => {
    const { clock, c } = circuit();
    assert.equal(c.settle('send', down), undefined);
    assert.equal(c.settle('send', status(503)), undefined);
    assert.equal(c.take(), 'send');
    assert.equal(c.settle('send', status(429)), 'opened');
    assert.ok(c.open);
    assert.equal(c.take(), 'wait');
    assert.equal(c.retryAt, 1_100);
    clock.now = 1_100;
    assert.equal(c.take(), 'probe');
    assert.equal(c.take(), 'wait', 'one probe at a time');
    const probed = c.probeSettled();
    assert.ok(probed !== undefined);
    assert.equal(c.settle('probe', down), undefined, 'still open: not told again');
    await probed;
    assert.equal(c.probeSettled(), undefined);
    assert.equal(c.retryAt, 1_300);
    clock.now = 1_300;
    assert.equal(c.take(), 'probe');
    c.settle('probe', status(502));
    assert.equal(c.retryAt, 1_300 + 350, 'capped');
  });

  it('closes when a probe gets through, or when the sink refuses one event (it answers)', () => {
    const { clock, c } = circuit();
    for (let i = 0; i < 3; i++) c.settle('send', down);
    clock.now += 100;
    assert.equal(c.take(), 'probe');
    assert.equal(c.settle('probe', undefined), 'closed');
    assert.equal(c.take(), 'send');
    for (let i = 0; i < 3; i++) c.settle('send', down);
    clock.now += 100;
    assert.equal(c.take(), 'probe');
    assert.equal(c.settle('probe', status(400)), 'closed');
    assert.ok(!c.open);
  });

  it('a send that was out before it opened does not end the probe', () => {
    const { clock, c } = circuit();
    for (let i = 0; i < 3; i++) c.settle('send', down);
    clock.now += 100;
    assert.equal(c.take(), 'probe');
    assert.equal(c.settle('send', down), undefined);
    assert.equal(c.take(), 'wait', 'the probe is still out');
    assert.ok(c.probeSettled() !== undefined);
  });

  it('counts only failures in a row, and only those that say the sink is unavailable', () => {
    const { c } = circuit();
    c.settle('send', down);
    c.settle('send', down);
    c.settle('send', undefined);
    c.settle('send', down);
    c.settle('send', status(404));
    c.settle('send', down);
    c.settle('send', down);
    assert.ok(!c.open);
    // an error that is not the sink's answer (a file sink's full disk) counts too
    assert.equal(c.settle('send', { error: new Error('disk full') }), 'opened');
  });

  it('a message without the credentials of a URL', () => {
    const text = circuitMessage(
      'https://user:pw@hooks.example/x',
      'opened',
      new Error('POST https://user:pw@hooks.example/x failed'),
    );
    assert.doesNotMatch(text, /pw/);
    assert.match(text, /https:\/\/\*\*\*@hooks\.example\/x is unavailable/);
  });
});
