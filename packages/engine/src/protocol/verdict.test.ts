import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideVerdict } from './verdict.js';
import type { Verdict, VerdictInput } from './verdict.js';
import type { ContractStep } from './types.js';

const ALL: ContractStep[] = ['component-start', 'task-start', 'task-result', 'component-stop'];
const NO_RESULT: ContractStep[] = ['component-start', 'task-start', 'component-stop'];

function input(over: Partial<VerdictInput> & { seenSteps?: ContractStep[] }): VerdictInput {
  const { seenSteps, ...rest } = over;
  return {
    cout: { output: {} },
    exit: { exitCode: 0 },
    strict: false,
    seen: new Set(seenSteps ?? []),
    timedOut: false,
    cancelled: false,
    ...rest,
  };
}

type Expect = Pick<Verdict, 'state' | 'reason'> & { message?: string };

describe('decideVerdict', () => {
  const cases: Array<[string, VerdictInput, Expect]> = [
    [
      'success result, exit 0',
      input({ result: { status: 'success' }, seenSteps: ALL }),
      { state: 'succeeded', reason: null },
    ],
    [
      'success result keeps its message',
      input({ result: { status: 'success', message: 'done' }, seenSteps: ALL }),
      { state: 'succeeded', reason: null, message: 'done' },
    ],
    [
      'failure result, exit 0',
      input({ result: { status: 'failure', message: 'tests failed' }, seenSteps: ALL }),
      { state: 'failed', reason: 'reported failure', message: 'tests failed' },
    ],
    [
      'success result, exit 3',
      input({ result: { status: 'success' }, exit: { exitCode: 3 }, seenSteps: ALL }),
      { state: 'failed', reason: 'reported success but exited with code 3' },
    ],
    [
      'failure result beats exit code',
      input({ result: { status: 'failure' }, exit: { exitCode: 1 }, seenSteps: ALL }),
      { state: 'failed', reason: 'reported failure' },
    ],
    ['no result, exit 0', input({}), { state: 'succeeded', reason: null }],
    ['no result, exit 2', input({ exit: { exitCode: 2 } }), { state: 'failed', reason: 'exited with code 2' }],
    [
      'COUT false, exit 0',
      input({ cout: { output: {}, result: 'failure' } }),
      { state: 'failed', reason: 'reported failure', message: '[COUT] CO_RESULT=false' },
    ],
    ['COUT true, exit 0', input({ cout: { output: {}, result: 'success' } }), { state: 'succeeded', reason: null }],
    [
      'COUT true, exit 1',
      input({ cout: { output: {}, result: 'success' }, exit: { exitCode: 1 } }),
      { state: 'failed', reason: 'reported success but exited with code 1' },
    ],
    [
      'posted result beats COUT',
      input({ result: { status: 'success' }, cout: { output: {}, result: 'failure' }, seenSteps: ALL }),
      { state: 'succeeded', reason: null },
    ],
    [
      'strict, nothing called',
      input({ strict: true }),
      {
        state: 'failed',
        reason: 'missing component-start',
        message: 'strict component never called component-start (CO_COMPONENT_START)',
      },
    ],
    [
      'strict, no task-result even with COUT',
      input({ strict: true, seenSteps: NO_RESULT, cout: { output: {}, result: 'success' } }),
      {
        state: 'failed',
        reason: 'missing task-result',
        message: 'strict component never called task-result (CO_TASK_RESULT)',
      },
    ],
    [
      'strict, result but no component-stop',
      input({
        strict: true,
        result: { status: 'success' },
        seenSteps: ['component-start', 'task-start', 'task-result'],
      }),
      {
        state: 'failed',
        reason: 'missing component-stop',
        message: 'strict component never called component-stop (CO_COMPONENT_STOP)',
      },
    ],
    [
      'strict, full sequence',
      input({ strict: true, result: { status: 'success' }, seenSteps: ALL }),
      { state: 'succeeded', reason: null },
    ],
    [
      'strict, reported failure keeps its own message',
      input({
        strict: true,
        result: { status: 'failure', message: 'bad' },
        seenSteps: ['component-start', 'task-start', 'task-result'],
      }),
      { state: 'failed', reason: 'reported failure', message: 'bad' },
    ],
    [
      'timeout beats a success',
      input({ timedOut: true, result: { status: 'success' }, exit: { exitCode: null, signal: 'SIGTERM' } }),
      { state: 'failed', reason: 'timeout' },
    ],
    [
      'exit reason timeout',
      input({ exit: { exitCode: null, signal: 'SIGKILL', reason: 'timeout' } }),
      { state: 'failed', reason: 'timeout' },
    ],
    [
      'cancelled',
      input({ cancelled: true, exit: { exitCode: null, signal: 'SIGTERM' } }),
      { state: 'cancelled', reason: 'cancelled' },
    ],
    [
      'cancelled beats timeout',
      input({ cancelled: true, timedOut: true }),
      { state: 'cancelled', reason: 'cancelled' },
    ],
    [
      'signal',
      input({ exit: { exitCode: null, signal: 'SIGSEGV' } }),
      { state: 'failed', reason: 'killed by signal SIGSEGV' },
    ],
    [
      'signal after a posted success',
      input({ result: { status: 'success' }, seenSteps: ALL, exit: { exitCode: null, signal: 'SIGKILL' } }),
      { state: 'failed', reason: 'killed by signal SIGKILL' },
    ],
    ['OOM', input({ exit: { exitCode: 137, oomKilled: true } }), { state: 'failed', reason: 'out of memory' }],
    ['lost', input({ exit: { exitCode: null, reason: 'lost' } }), { state: 'failed', reason: 'lost' }],
    ['no code at all', input({ exit: { exitCode: null } }), { state: 'failed', reason: 'ended without an exit code' }],
  ];
  for (const [name, given, expected] of cases) {
    test(name, () => {
      const verdict = decideVerdict(given);
      assert.equal(verdict.state, expected.state);
      assert.equal(verdict.reason, expected.reason);
      assert.equal(verdict.message, expected.message);
    });
  }

  test('output is COUT overlaid by the TASK_RESULT output', () => {
    const verdict = decideVerdict(
      input({
        cout: { output: { a: 'cout', b: 'cout' } },
        result: { status: 'success', output: { b: 'result', c: 3 } },
        seenSteps: ALL,
      }),
    );
    assert.deepEqual(verdict.output, { a: 'cout', b: 'result', c: 3 });
  });

  test('output is kept on failure too', () => {
    const verdict = decideVerdict(input({ cout: { output: { log: 'x' } }, exit: { exitCode: 1 } }));
    assert.deepEqual(verdict.output, { log: 'x' });
  });
});
