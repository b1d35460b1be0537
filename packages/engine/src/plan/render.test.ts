import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../domain/errors.js';
import { evaluateCondition, evaluateExpression, renderTemplate } from './render.js';
import { compileTemplate } from './template.js';
import type { Expression, ExpressionContext } from './types.js';

const ctx: ExpressionContext = {
  inputs: { repo: 'https://example.com/x.git', ref: 'main', shards: 3, ratio: 0.5, tags: ['a', 'b'], meta: { n: 1 } },
  actions: { clone: { outputs: { commit: 'abc123', size: 42 }, status: 'succeeded' } },
  run: { id: '01J', number: 7, workflow: 'build', status: 'running' },
  env: { HOME: '/home/ci' },
  secrets: { TOKEN: 's3cret' },
};

const expr = (source: string): Expression => ({ source, at: 'workflow.yaml:3:9' });

describe('renderTemplate', () => {
  test('a whole expression keeps its JSON type', () => {
    const template = compileTemplate({
      n: '${{ inputs.shards }}',
      half: '${{ inputs.ratio }}',
      list: '${{ inputs.tags }}',
      obj: '${{ inputs.meta }}',
      map: '${{ {"k": inputs.shards + 1, "ok": true} }}',
      none: '${{ null }}',
      sum: '${{ actions.clone.outputs.size + run.number }}',
    });
    assert.deepEqual(renderTemplate(template, ctx), {
      n: 3,
      half: 0.5,
      list: ['a', 'b'],
      obj: { n: 1 },
      map: { k: 4, ok: true },
      none: null,
      sum: 49,
    });
  });

  test('text around expressions interpolates; non-strings are JSON-encoded', () => {
    const template = compileTemplate([
      'commit ${{ actions.clone.outputs.commit }} (#${{ run.number }})',
      '${{ inputs.tags }} and ${{ inputs.meta }} and ${{ null }}',
      ' ${{ inputs.ref }}',
    ]);
    assert.deepEqual(renderTemplate(template, ctx), ['commit abc123 (#7)', '["a","b"] and {"n":1} and null', ' main']);
  });

  test('literals are returned as written, with nothing evaluated', () => {
    const value = { a: [1, 'two', { three: null }], b: 'no ${ expression }' };
    const template = compileTemplate(value);
    assert.deepEqual(template, { kind: 'literal', value });
    assert.deepEqual(renderTemplate(template, ctx), value);
  });

  test('CEL values without a JSON type are converted', () => {
    assert.equal(evaluateExpression(expr('timestamp("2024-01-02T03:04:05Z")'), ctx), '2024-01-02T03:04:05.000Z');
    assert.equal(evaluateExpression(expr('duration("90s")'), ctx), '90s');
    assert.equal(evaluateExpression(expr('b"hi"'), ctx), 'aGk=');
    assert.equal(evaluateExpression(expr('5u'), ctx), 5);
    assert.equal(evaluateExpression(expr('inputs.?missing.orValue("x")'), ctx), 'x');
    assert.equal(
      evaluateExpression(expr('payload.ref.replace("refs/heads/", "")'), { payload: { ref: 'refs/heads/dev' } }),
      'dev',
    );
  });

  test('a failing expression throws ValidationError naming its position', () => {
    const template = compileTemplate('${{ inputs.nope }}', 'workflow.yaml:12:15');
    assert.throws(
      () => renderTemplate(template, ctx),
      (error: unknown) =>
        error instanceof ValidationError &&
        error.message === 'workflow.yaml:12:15: cannot evaluate `inputs.nope`: No such key: nope',
    );
    assert.throws(
      () => evaluateExpression(expr('1 / 0'), ctx),
      /workflow.yaml:3:9: cannot evaluate `1 \/ 0`: division by zero/,
    );
    assert.throws(() => evaluateExpression(expr('9007199254740993'), ctx), /too large for JSON/);
    assert.throws(() => evaluateExpression(expr('double("NaN")'), ctx), /no JSON form/);
  });

  test('renders against plain variables (webhook payload and headers)', () => {
    const template = compileTemplate({
      repo: '${{ payload.repository.url }}',
      event: '${{ headers["x-github-event"] }}',
    });
    const rendered = renderTemplate(template, {
      payload: { repository: { url: 'u' } },
      headers: { 'x-github-event': 'push' },
    });
    assert.deepEqual(rendered, { repo: 'u', event: 'push' });
  });
});

describe('evaluateCondition', () => {
  test('gives the boolean value', () => {
    assert.equal(evaluateCondition(expr('inputs.ref == "main" && inputs.shards > 2'), ctx), true);
    assert.equal(evaluateCondition(expr('actions.clone.status != "succeeded"'), ctx), false);
    assert.equal(evaluateCondition(expr('"a" in inputs.tags'), ctx), true);
    assert.equal(
      evaluateCondition(expr('event.subject.id.startsWith("pkg:")'), { event: { subject: { id: 'pkg:x' } } }),
      true,
    );
  });

  test('a non-boolean result is an error naming the position', () => {
    assert.throws(
      () => evaluateCondition(expr('inputs.ref'), ctx),
      (error: unknown) =>
        error instanceof ValidationError &&
        error.message === 'workflow.yaml:3:9: the condition `inputs.ref` gave "main", not true or false',
    );
  });

  test('integers compare with doubles, JSON numbers are CEL int or double by value', () => {
    assert.equal(evaluateCondition(expr('inputs.shards == 3 && inputs.ratio < 1.0 && inputs.shards > 2.5'), ctx), true);
  });
});

describe('compileTemplate', () => {
  test('rejects malformed expressions with the given position', () => {
    assert.throws(() => compileTemplate('${{ a == }}', 'x.yaml:1:1'), /x.yaml:1:1: invalid expression `a ==`/);
    assert.throws(() => compileTemplate({ a: ['${{ open'] }, 'x.yaml:2:2'), /x.yaml:2:2: unterminated expression/);
  });
});
