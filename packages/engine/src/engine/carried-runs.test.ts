import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OwnedStore, RunRecord } from '../store/types.js';
import { CarriedRuns } from './carried-runs.js';
import type { RunExecution } from './run-execution.js';

/** A stand-in execution that notes the cancels it is given, and a way to end it. */
function carriedRun(runs: CarriedRuns, id: string): { cancels: string[]; carry: () => void; end: () => void } {
  const cancels: string[] = [];
  const execution = { cancel: (reason: string) => cancels.push(reason) } as unknown as RunExecution;
  let carry: ((execution: RunExecution) => void) | undefined;
  let end: (() => void) | undefined;
  runs.add(id, 'me', {} as OwnedStore, async (give) => {
    carry = give;
    await new Promise<void>((resolve) => (end = resolve));
    return { id } as RunRecord;
  });
  return { cancels, carry: () => carry!(execution), end: () => end!() };
}

function carried(): CarriedRuns {
  return new CarriedRuns({ ended: () => undefined, warn: (message) => assert.fail(message) });
}

test('a cancel recorded in the store is given to the execution once, however often it is read', () => {
  const runs = carried();
  const run = carriedRun(runs, 'r1');
  run.carry();
  assert.equal(runs.cancel('r1', 'first', 1), true);
  // every heartbeat reads the store's requests again
  runs.cancel('r1', 'first', 1);
  runs.cancel('r1', 'first', 1);
  assert.deepEqual(run.cancels, ['first']);
  // a second request (the finally stages stop too); more than two change nothing
  runs.cancel('r1', 'again', 2);
  runs.cancel('r1', 'again', 3);
  assert.deepEqual(run.cancels, ['first', 'again']);
  assert.equal(runs.cancel('gone', 'x', 1), false, 'a run not carried here');
  run.end();
});

test('cancels asked before the execution exists are given to it when it does; a cancel not recorded counts one more', () => {
  const runs = carried();
  const run = carriedRun(runs, 'r1');
  runs.cancel('r1', 'early', 2);
  assert.deepEqual(run.cancels, []);
  run.carry();
  assert.deepEqual(run.cancels, ['early', 'early']);

  const other = carriedRun(runs, 'r2');
  other.carry();
  runs.cancel('r2', 'shutting down');
  runs.cancel('r2', 'shutting down', 1);
  assert.deepEqual(other.cancels, ['shutting down'], 'a count the execution already had adds nothing');
  run.end();
  other.end();
});
