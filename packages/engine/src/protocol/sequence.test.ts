import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSequence, contractState, sameJson } from './sequence.js';
import type { SequenceState } from './sequence.js';
import type { AcceptedStep, ContractStep, ResultBody } from './types.js';

const start: AcceptedStep = { step: 'component-start' };
const taskStart: AcceptedStep = { step: 'task-start' };
const status: AcceptedStep = { step: 'task-status', body: { progress: 0.5 } };
const success: ResultBody = { status: 'success', output: { a: 1, b: [1, 2] } };
const result: AcceptedStep = { step: 'task-result', body: success };
const stop: AcceptedStep = { step: 'component-stop' };

function state(seen: ContractStep[], extra: Partial<SequenceState> = {}): SequenceState {
  return { seen: new Set(seen), ...extra };
}

const all: ContractStep[] = ['component-start', 'task-start', 'task-status', 'task-result', 'component-stop'];

describe('checkSequence', () => {
  const cases: Array<[string, SequenceState, AcceptedStep, string, string?]> = [
    ['component-start first', state([]), start, 'accept'],
    ['task-start needs component-start', state([]), taskStart, 'OUT_OF_SEQUENCE', 'expected component-start first'],
    ['task-start after component-start', state(['component-start']), taskStart, 'accept'],
    [
      'task-status needs task-start',
      state(['component-start']),
      status,
      'OUT_OF_SEQUENCE',
      'expected task-start first',
    ],
    ['task-status after task-start', state(['component-start', 'task-start']), status, 'accept'],
    ['task-status repeats', state(['component-start', 'task-start', 'task-status']), status, 'accept'],
    [
      'task-result needs task-start',
      state(['component-start']),
      result,
      'OUT_OF_SEQUENCE',
      'expected task-start first',
    ],
    ['task-result without status', state(['component-start', 'task-start']), result, 'accept'],
    ['component-stop needs component-start', state([]), stop, 'OUT_OF_SEQUENCE', 'expected component-start first'],
    ['component-stop without a task', state(['component-start']), stop, 'accept'],
    [
      'component-stop after result',
      state(['component-start', 'task-start', 'task-result'], { result: success }),
      stop,
      'accept',
    ],
    ['repeat component-start', state(['component-start']), start, 'repeat'],
    ['repeat task-start', state(['component-start', 'task-start']), taskStart, 'repeat'],
    ['repeat component-stop', state(['component-start', 'component-stop']), stop, 'repeat'],
    ['repeat component-start after stop', state(['component-start', 'component-stop']), start, 'repeat'],
    [
      'repeat identical task-result, keys reordered',
      state(['component-start', 'task-start', 'task-result'], { result: success }),
      { step: 'task-result', body: { output: { b: [1, 2], a: 1 }, status: 'success' } },
      'repeat',
    ],
    [
      'different task-result',
      state(['component-start', 'task-start', 'task-result'], { result: success }),
      { step: 'task-result', body: { status: 'failure' } },
      'RESULT_CONFLICT',
      'already accepted',
    ],
    [
      'nothing new after component-stop',
      state(['component-start', 'component-stop']),
      taskStart,
      'OUT_OF_SEQUENCE',
      'component-stop was already received',
    ],
    [
      'no status after stop',
      state(['component-start', 'task-start', 'component-stop']),
      status,
      'OUT_OF_SEQUENCE',
      'component-stop',
    ],
    [
      'no status after result',
      state(['component-start', 'task-start', 'task-result'], { result: success }),
      status,
      'OUT_OF_SEQUENCE',
      'task-result was already accepted',
    ],
    ['nothing after end', state([], { endedState: 'failed' }), start, 'TASK_RUN_ENDED', 'ended (failed)'],
    [
      'not even a repeat after end',
      state(all, { result: success, endedState: 'succeeded' }),
      stop,
      'TASK_RUN_ENDED',
      'succeeded',
    ],
  ];
  for (const [name, given, incoming, expected, text] of cases) {
    test(name, () => {
      const decision = checkSequence(given, incoming);
      if (expected === 'accept' || expected === 'repeat') {
        assert.equal(decision.kind, expected);
        return;
      }
      assert.equal(decision.kind, 'reject');
      if (decision.kind !== 'reject') return;
      assert.equal(decision.code, expected);
      assert.ok(text !== undefined && decision.message.includes(text), decision.message);
    });
  }

  test('the state of a 409 is the latest step, or the ended state', () => {
    const early = checkSequence(state([]), taskStart);
    assert.equal(early.kind === 'reject' && early.state, 'not-started');
    const later = checkSequence(state(['component-start', 'task-start', 'task-status']), stop);
    assert.equal(later.kind, 'accept');
    const afterStop = checkSequence(state(['component-start', 'task-start', 'component-stop']), result);
    assert.equal(afterStop.kind === 'reject' && afterStop.state, 'component-stop');
    const ended = checkSequence(state(['component-start'], { endedState: 'cancelled' }), taskStart);
    assert.equal(ended.kind === 'reject' && ended.state, 'cancelled');
  });
});

describe('contractState and sameJson', () => {
  test('contractState follows contract order, not insertion order', () => {
    assert.equal(contractState(new Set<ContractStep>(['task-start', 'component-start'])), 'task-start');
    assert.equal(contractState(new Set()), 'not-started');
  });
  const pairs: Array<[unknown, unknown, boolean]> = [
    [{ a: 1, b: { c: [1, { d: null }] } }, { b: { c: [1, { d: null }] }, a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [[1, 2], [2, 1], false],
    [{ a: [] }, { a: {} }, false],
    [{ a: undefined, b: 1 }, { b: 1 }, true],
    ['x', 'x', true],
    [0, false, false],
  ];
  for (const [a, b, same] of pairs) {
    test(`sameJson(${JSON.stringify(a)}, ${JSON.stringify(b)}) is ${same}`, () => {
      assert.equal(sameJson(a, b), same);
      assert.equal(sameJson(b, a), same);
    });
  }
});
