import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchCdeventTriggers, type TriggerFilterEvaluator } from '../src/events/triggers.js';
import { matchesTypePattern, typeFilter } from '../src/events/type-pattern.js';
import type { CDEvent } from '../src/events/types.js';
import type { Expression, PlanTrigger } from '../src/plan/types.js';

const event: CDEvent = {
  context: {
    specversion: '0.5.1',
    id: 'e-1',
    source: '/registry',
    type: 'dev.cdevents.artifact.published.0.3.0',
    timestamp: '2026-05-04T10:00:00Z',
  },
  subject: { id: 'pkg:oci/app@sha256:abc', content: { user: 'ci-bot' } },
};

const expr = (source: string): Expression => ({ source, at: 'workflow.yaml:5:7' });

/** A tiny stand-in for the expression engine: `subject.id == 'x'`-style equality on paths of `event`. */
const evaluate: TriggerFilterEvaluator = (filter, scope) => {
  if (filter.source === 'boom') throw new Error('no such field: event.nope');
  if (filter.source === 'number') return 3;
  const m = /^event\.([\w.]+) == '(.*)'$/.exec(filter.source);
  assert.ok(m, `unsupported test expression ${filter.source}`);
  let value: unknown = scope.event;
  for (const key of m[1]!.split('.')) value = (value as Record<string, unknown>)[key];
  return value === m[2];
};

describe('type patterns', () => {
  const cases: [string, string, boolean][] = [
    ['dev.cdevents.artifact.published.0.3.0', 'dev.cdevents.artifact.published.0.3.0', true],
    ['dev.cdevents.artifact.published.0.2.0', 'dev.cdevents.artifact.published.0.3.0', false],
    ['dev.cdevents.artifact.published', 'dev.cdevents.artifact.published.0.3.0', true],
    ['dev.cdevents.artifact.published', 'dev.cdevents.artifact.published.1.0.0', true],
    ['dev.cdevents.artifact', 'dev.cdevents.artifact.published.0.3.0', false],
    ['dev.cdevents.artifact.pub', 'dev.cdevents.artifact.published.0.3.0', false],
    ['dev.cdevents.artifact.*', 'dev.cdevents.artifact.published.0.3.0', true],
    ['dev.cdevents.artifact.*', 'dev.cdevents.artifactx.published.0.3.0', false],
    ['*.finished.*', 'dev.cdevents.taskrun.finished.0.3.0', true],
    ['*', 'anything', true],
    ['dev.cdevents.*.started.0.3.0', 'dev.cdevents.build.started.0.3.0', true],
    ['dev.cdevents.a+b.*', 'dev.cdevents.aab.x', false],
  ];
  for (const [pattern, type, expected] of cases) {
    test(`${pattern} ${expected ? 'matches' : 'does not match'} ${type}`, () => {
      assert.equal(matchesTypePattern(pattern, type), expected);
    });
  }
  test('typeFilter: empty accepts all, otherwise any pattern', () => {
    assert.equal(typeFilter(undefined)('x'), true);
    assert.equal(typeFilter([])('x'), true);
    const f = typeFilter(['dev.cdevents.pipelinerun.*', 'dev.cdevents.taskrun.finished']);
    assert.equal(f('dev.cdevents.pipelinerun.queued.0.3.0'), true);
    assert.equal(f('dev.cdevents.taskrun.finished.0.3.0'), true);
    assert.equal(f('dev.cdevents.taskrun.started.0.3.0'), false);
  });
});

describe('matchCdeventTriggers', () => {
  const workflows: { name: string; triggers: PlanTrigger[] }[] = [
    { name: 'unversioned', triggers: [{ kind: 'cdevent', type: 'dev.cdevents.artifact.published' }] },
    { name: 'exact-old-version', triggers: [{ kind: 'cdevent', type: 'dev.cdevents.artifact.published.0.2.0' }] },
    { name: 'glob', triggers: [{ kind: 'manual' }, { kind: 'cdevent', type: 'dev.cdevents.artifact.*' }] },
    { name: 'other-type', triggers: [{ kind: 'cdevent', type: 'dev.cdevents.change.merged' }] },
    {
      name: 'filter-true',
      triggers: [
        {
          kind: 'cdevent',
          type: 'dev.cdevents.artifact.published',
          filter: expr("event.subject.content.user == 'ci-bot'"),
        },
      ],
    },
    {
      name: 'filter-false',
      triggers: [
        {
          kind: 'cdevent',
          type: 'dev.cdevents.artifact.published',
          filter: expr("event.subject.content.user == 'someone'"),
        },
      ],
    },
    {
      name: 'filter-throws',
      triggers: [{ kind: 'cdevent', type: 'dev.cdevents.artifact.published', filter: expr('boom') }],
    },
    {
      name: 'filter-not-boolean',
      triggers: [{ kind: 'cdevent', type: 'dev.cdevents.artifact.published', filter: expr('number') }],
    },
    {
      name: 'two-matching-triggers',
      triggers: [
        { kind: 'cdevent', type: 'dev.cdevents.artifact.*' },
        { kind: 'cdevent', type: 'dev.cdevents.artifact.published.0.3.0' },
      ],
    },
    { name: 'webhook-only', triggers: [{ kind: 'webhook', provider: 'github', events: ['push'] }] },
  ];

  test('matches by pattern and filter; each workflow once; broken filters reported, not thrown', async () => {
    const { matches, errors } = await matchCdeventTriggers(event, workflows, evaluate);
    assert.deepEqual(
      matches.map((m) => m.workflow),
      ['unversioned', 'glob', 'filter-true', 'two-matching-triggers'],
    );
    assert.equal(matches.find((m) => m.workflow === 'glob')?.trigger.type, 'dev.cdevents.artifact.*');
    assert.deepEqual(
      errors.map((e) => e.workflow),
      ['filter-throws', 'filter-not-boolean'],
    );
    assert.match(errors[0]!.message, /no such field/);
    assert.match(errors[1]!.message, /workflow\.yaml:5:7.*true or false, got 3/);
  });

  test('an async evaluator is awaited', async () => {
    const { matches } = await matchCdeventTriggers(event, [workflows[4]!, workflows[5]!], async (f, s) =>
      evaluate(f, s),
    );
    assert.deepEqual(
      matches.map((m) => m.workflow),
      ['filter-true'],
    );
  });
});
