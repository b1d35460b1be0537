import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  currentEngineProcess,
  engineProcessAlive,
  formatMark,
  parseMark,
  processIdentityFromStat,
} from './process-mark.js';

describe('process marks', () => {
  test('format and parse round-trip; anything else is not a mark', () => {
    const mark = { engineId: 'pilotage-0a1b2c', engineProcess: '4242.1234567', runId: 'R1', taskRunId: 'T1' };
    assert.equal(formatMark(mark), 'v1/pilotage-0a1b2c/4242.1234567/R1/T1');
    assert.deepEqual(parseMark(formatMark(mark)), mark);
    for (const text of ['', 'v2/e/p/r/t', 'v1/e/p/r', 'v1/e/p/r/t/x', 'v1//p/r/t']) {
      assert.equal(parseMark(text), undefined, text);
    }
  });

  test('identity from /proc stat: pid and start time, even with a command holding ") "', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i));
    fields[0] = 'S';
    fields[19] = '987654';
    assert.equal(processIdentityFromStat(12, `12 (a) b) ${fields.join(' ')}`), '12.987654');
    fields[0] = 'Z';
    assert.equal(processIdentityFromStat(12, `12 (a) ${fields.join(' ')}`), undefined, 'a zombie is dead');
  });

  test('this process is alive under its identity; another start time or pid is not', async () => {
    const me = currentEngineProcess();
    const start = processIdentityFromStat(process.pid, readFileSync('/proc/self/stat', 'latin1'))!;
    assert.equal(me, start);
    assert.equal(await engineProcessAlive(me), true);
    assert.equal(await engineProcessAlive(`${process.pid}.1`), false, 'a pid reused by another process');
    assert.equal(await engineProcessAlive('999999999.1'), false, 'no such pid');
    assert.equal(await engineProcessAlive('4242.rabcdef'), true, 'an identity /proc cannot check is left alone');
  });
});
