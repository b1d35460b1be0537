import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCallbackStep, parseJsonObject, parseStepBody } from './body.js';
import type { ContractStep } from './types.js';
import type { JsonObject } from '../domain/vocabulary.js';

const needsCommit = (output: JsonObject): string | undefined =>
  typeof output['commit'] === 'string' ? undefined : "must have required property 'commit'";

describe('parseStepBody', () => {
  const ok: Array<[ContractStep, string | undefined, unknown]> = [
    ['component-start', undefined, { step: 'component-start' }],
    ['component-start', '', { step: 'component-start' }],
    ['task-start', '  \n', { step: 'task-start' }],
    ['component-stop', '{"anything":[1,2]}', { step: 'component-stop' }],
    ['task-status', '{}', { step: 'task-status', body: {} }],
    ['task-status', '', { step: 'task-status', body: {} }],
    [
      'task-status',
      '{"message":"half","progress":0.5}',
      { step: 'task-status', body: { message: 'half', progress: 0.5 } },
    ],
    ['task-status', '{"progress":0}', { step: 'task-status', body: { progress: 0 } }],
    [
      'task-status',
      '{"progress":1,"output":{"commit":"x"}}',
      { step: 'task-status', body: { progress: 1, output: { commit: 'x' } } },
    ],
    ['task-result', '{"status":"success"}', { step: 'task-result', body: { status: 'success' } }],
    [
      'task-result',
      '{"status":"failure","message":"no"}',
      { step: 'task-result', body: { status: 'failure', message: 'no' } },
    ],
    [
      'task-result',
      '{"status":"success","output":{"commit":"abc"}}',
      { step: 'task-result', body: { status: 'success', output: { commit: 'abc' } } },
    ],
  ];
  for (const [step, raw, expected] of ok) {
    test(`${step} accepts ${JSON.stringify(raw)}`, () => {
      const parsed = parseStepBody(step, raw, needsCommit);
      assert.deepEqual(parsed, { ok: true, value: expected });
    });
  }

  const bad: Array<[ContractStep, string, string]> = [
    ['component-start', '{', 'not valid JSON'],
    ['component-start', '[1]', 'must be a JSON object'],
    ['task-start', 'repo=x', 'not valid JSON'],
    ['task-status', '{"progress":1.5}', "'progress'"],
    ['task-status', '{"progress":-0.1}', "'progress'"],
    ['task-status', '{"progress":"50%"}', "'progress'"],
    ['task-status', '{"message":3}', "'message'"],
    ['task-status', '{"output":[1]}', "'output'"],
    ['task-status', '{"output":{}}', "required property 'commit'"],
    ['task-status', '{"percent":3}', "unknown field 'percent'"],
    ['task-result', '{}', "needs 'status'"],
    ['task-result', '{"status":"ok"}', "'status'"],
    ['task-result', '{"status":"success","outputs":{}}', "unknown field 'outputs'"],
    ['task-result', '{"status":"success","output":"x"}', "'output' of the task-result body must be a JSON object"],
    [
      'task-result',
      '{"status":"success","output":{"commit":1}}',
      "outputs schema: must have required property 'commit'",
    ],
    ['task-result', '{"status":"failure","message":false}', "'message'"],
    ['task-result', 'null', 'must be a JSON object'],
  ];
  for (const [step, raw, reason] of bad) {
    test(`${step} refuses ${raw}`, () => {
      const parsed = parseStepBody(step, raw, needsCommit);
      assert.equal(parsed.ok, false);
      assert.ok(!parsed.ok && parsed.message.includes(reason), !parsed.ok ? parsed.message : '');
    });
  }

  test('without a validator any output object passes', () => {
    assert.equal(parseStepBody('task-result', '{"status":"success","output":{"x":1}}').ok, true);
  });
});

describe('parseJsonObject and isCallbackStep', () => {
  test('blank is {}', () => assert.deepEqual(parseJsonObject(' '), { ok: true, value: {} }));
  test('steps', () => {
    assert.equal(isCallbackStep('cdevent'), true);
    assert.equal(isCallbackStep('task-result'), true);
    assert.equal(isCallbackStep('data'), false);
    assert.equal(isCallbackStep('constructor'), false);
  });
});

// 5,000 levels fit in the 1 MiB callback limit and used to overflow the stack downstream
test('a callback body nested deeper than the limit is refused, naming it', () => {
  const deep = `{"output":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
  const parsed = parseStepBody('task-status', deep);
  assert.equal(parsed.ok, false);
  assert.match(parsed.ok ? '' : parsed.message, /deeper than 100 levels, the limit for JSON input/);
});
