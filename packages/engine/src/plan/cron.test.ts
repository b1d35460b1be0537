import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cronProblem, isTimeZone } from './cron.js';

describe('cronProblem', () => {
  for (const valid of [
    '0 3 * * *',
    '*/15 0-6,22 1 jan-mar mon-fri',
    '30 2 * * 7',
    '@daily',
    ' 5 4 * * sun ',
    '0 0 1,15 * *',
  ]) {
    test(`accepts "${valid}"`, () => assert.equal(cronProblem(valid), undefined));
  }
  const invalid: [string, RegExp][] = [
    ['0 3 * *', /5 fields .* got 4/],
    ['60 * * * *', /invalid minute "60".*0 to 59/],
    ['0 24 * * *', /invalid hour/],
    ['0 0 0 * *', /invalid day of month "0"/],
    ['0 0 * 13 *', /invalid month/],
    ['0 0 * * 8', /invalid day of week/],
    ['*/0 * * * *', /step "0" is not a positive number/],
    ['5-1 * * * *', /range 5-1 goes backwards/],
    ['0 0 * * funday', /invalid day of week/],
    ['@sometimes', /unknown cron macro/],
  ];
  for (const [schedule, message] of invalid) {
    test(`rejects "${schedule}"`, () => assert.match(cronProblem(schedule) ?? '', message));
  }
});

describe('isTimeZone', () => {
  test('knows IANA zones and rejects others', () => {
    assert.equal(isTimeZone('Europe/Paris'), true);
    assert.equal(isTimeZone('UTC'), true);
    assert.equal(isTimeZone('Mars/Olympus'), false);
  });
});
