import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContractEnv, CO_DATA_MAX_BYTES, CO_INPUT_LIMITS, inputEnvName } from './env.js';
import type { ContractEnvInput } from './env.js';

const base: ContractEnvInput = {
  baseUrl: 'http://127.0.0.1:4000/',
  token: 'tok_EN',
  taskRunId: 'TR1',
  runId: 'R1',
  workflow: 'wf',
  stage: 'build',
  action: 'clone',
  attempt: 2,
  eventData: {
    repo: 'https://x/y.git',
    gitRef: 'main',
    depth: 1,
    shallow: true,
    nothing: null,
    list: [1],
    obj: { a: 1 },
  },
  workspace: '/ws',
  server: 'http://127.0.0.1:4000',
};

describe('buildContractEnv', () => {
  test('every variable of the contract', () => {
    const env = buildContractEnv({ ...base, componentDir: '/c' });
    const cb = 'http://127.0.0.1:4000/v1/callbacks/tok_EN';
    assert.deepEqual(env, {
      CO_DATA: JSON.stringify(base.eventData),
      CO_DATA_URL: `${cb}/data`,
      CO_COMPONENT_START: `${cb}/component-start`,
      CO_TASK_START: `${cb}/task-start`,
      CO_TASK_STATUS: `${cb}/task-status`,
      CO_TASK_RESULT: `${cb}/task-result`,
      CO_COMPONENT_STOP: `${cb}/component-stop`,
      CO_CDEVENT: `${cb}/cdevent`,
      CO_RUN_ID: 'R1',
      CO_TASK_RUN_ID: 'TR1',
      CO_WORKFLOW: 'wf',
      CO_STAGE: 'build',
      CO_ACTION: 'clone',
      CO_ATTEMPT: '2',
      CO_WORKSPACE: '/ws',
      CO_SERVER: 'http://127.0.0.1:4000',
      CO_COMPONENT_DIR: '/c',
      CO_INPUT_REPO: 'https://x/y.git',
      CO_INPUT_GIT_REF: 'main',
      CO_INPUT_DEPTH: '1',
      CO_INPUT_SHALLOW: 'true',
      CO_INPUT_NOTHING: '',
    });
  });

  test('CO_COMPONENT_DIR only when given', () => {
    assert.equal('CO_COMPONENT_DIR' in buildContractEnv(base), false);
  });

  test('TRACEPARENT and TRACESTATE only for a traced attempt', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const untraced = buildContractEnv(base);
    assert.equal('TRACEPARENT' in untraced || 'TRACESTATE' in untraced, false);
    const traced = buildContractEnv({ ...base, traceContext: { traceparent, tracestate: 'v=1' } });
    assert.equal(traced['TRACEPARENT'], traceparent);
    assert.equal(traced['TRACESTATE'], 'v=1');
    assert.equal('TRACESTATE' in buildContractEnv({ ...base, traceContext: { traceparent } }), false);
  });

  test('CO_DATA is kept at 64 KiB and omitted above it', () => {
    const overhead = JSON.stringify({ s: '' }).length;
    const exact = buildContractEnv({ ...base, eventData: { s: 'x'.repeat(CO_DATA_MAX_BYTES - overhead) } });
    assert.equal(Buffer.byteLength(exact['CO_DATA'] ?? ''), 65536);
    const over = buildContractEnv({ ...base, eventData: { s: 'x'.repeat(CO_DATA_MAX_BYTES - overhead + 1) } });
    assert.equal(over['CO_DATA'], undefined);
    assert.ok(over['CO_DATA_URL']?.endsWith('/data'));
    // Over the per-variable bound, the field travels only by CO_DATA_URL.
    assert.equal(over['CO_INPUT_S'], undefined);
    assert.equal(over['CO_INPUT_OMITTED'], 'CO_INPUT_S');
  });

  test('CO_INPUT_* are bounded per variable and in total; what is left out is named', () => {
    const { variableBytes, totalBytes } = CO_INPUT_LIMITS;
    const env = buildContractEnv({
      ...base,
      eventData: {
        huge: 'x'.repeat(200_000),
        exact: 'y'.repeat(variableBytes),
        second: 'z'.repeat(variableBytes - 2),
        third: 'w'.repeat(3),
        small: 'ok',
      },
    });
    assert.equal(env['CO_INPUT_HUGE'], undefined);
    assert.equal(env['CO_INPUT_EXACT']?.length, variableBytes);
    assert.equal(env['CO_INPUT_SECOND']?.length, variableBytes - 2);
    // 'third' would pass the total by one byte; 'small' fills it exactly.
    assert.equal(variableBytes * 2 - 2 + 3, totalBytes + 1);
    assert.equal(env['CO_INPUT_THIRD'], undefined);
    assert.equal(env['CO_INPUT_SMALL'], 'ok');
    assert.equal(env['CO_INPUT_OMITTED'], 'CO_INPUT_HUGE CO_INPUT_THIRD');
    assert.equal('CO_INPUT_OMITTED' in buildContractEnv({ ...base, eventData: { a: 'b' } }), false);
  });

  test('bytes, not characters, count', () => {
    const euros = buildContractEnv({ ...base, eventData: { s: '€'.repeat(22000) } });
    assert.equal(euros['CO_DATA'], undefined);
  });

  test('non-object event data has no CO_INPUT_', () => {
    const env = buildContractEnv({ ...base, eventData: [1, 2] });
    assert.equal(env['CO_DATA'], '[1,2]');
    assert.deepEqual(
      Object.keys(env).filter((k) => k.startsWith('CO_INPUT_')),
      [],
    );
  });

  test('first of colliding names wins; NUL strings skipped', () => {
    const env = buildContractEnv({ ...base, eventData: { gitRef: 'a', 'git-ref': 'b', GIT_REF: 'c', bad: 'x\0y' } });
    assert.equal(env['CO_INPUT_GIT_REF'], 'a');
    assert.equal(env['CO_INPUT_BAD'], undefined);
  });
});

describe('inputEnvName', () => {
  const cases: Array<[string, string | undefined]> = [
    ['repo', 'CO_INPUT_REPO'],
    ['gitRef', 'CO_INPUT_GIT_REF'],
    ['git-ref', 'CO_INPUT_GIT_REF'],
    ['git_ref', 'CO_INPUT_GIT_REF'],
    ['HTTPServer', 'CO_INPUT_HTTP_SERVER'],
    ['sha256Sum', 'CO_INPUT_SHA256_SUM'],
    ['imageURL', 'CO_INPUT_IMAGE_URL'],
    ['2fa', 'CO_INPUT_2FA'],
    ['a.b', undefined],
    ['with space', undefined],
    ['naïve', undefined],
    ['', undefined],
  ];
  for (const [field, expected] of cases) {
    test(JSON.stringify(field), () => assert.equal(inputEnvName(field), expected));
  }
});
