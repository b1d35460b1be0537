import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { completeComponentEvent, type ComponentEventOrigin } from '../src/events/component-event.js';
import { toOutboxEvent } from '../src/events/builders.js';
import { validateCdevent } from '../src/events/validate.js';

const origin: ComponentEventOrigin = {
  engineUrl: 'http://127.0.0.1:7777',
  workflow: 'release',
  runId: '01JRUN0000000000000000000B',
  taskRunId: '01JTASK000000000000000000B',
  chainId: 'chain-1',
  at: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  taskRunEventId: 'taskrun-started-1',
};

describe('component-reported events (CO_CDEVENT)', () => {
  test('an artifact.published report is completed with the engine context', () => {
    const result = completeComponentEvent(
      {
        type: 'dev.cdevents.artifact.published.0.3.0',
        subject: { id: 'pkg:oci/app@sha256:0123', content: { user: 'builder' } },
        customData: { digest: 'sha256:0123' },
      },
      origin,
    );
    assert.equal(result.ok, true, JSON.stringify(result));
    if (!result.ok) return;
    const { context } = result.event;
    assert.equal(context.specversion, '0.5.1');
    assert.equal(context.type, 'dev.cdevents.artifact.published.0.3.0');
    assert.equal(context.source, 'http://127.0.0.1:7777/workflows/release');
    assert.equal(context.timestamp, '2026-01-02T03:04:05.006Z');
    assert.equal(context.chainId, 'chain-1');
    assert.match(context.id, /^[0-9A-Z]{26}$/);
    assert.deepEqual(context.links, [
      { linkType: 'RELATION', linkKind: 'PARENT', target: { contextId: 'taskrun-started-1' } },
    ]);
    assert.deepEqual(result.event.customData, { digest: 'sha256:0123' });
    assert.equal(validateCdevent(result.event).ok, true);
    const row = toOutboxEvent(result.event, origin.runId);
    assert.equal(row.type, 'dev.cdevents.artifact.published.0.3.0');
    assert.equal(row.runId, origin.runId);
  });

  test('type may come in context, with schemaUri and extra links; custom types validate', () => {
    const result = completeComponentEvent(
      {
        context: {
          type: 'dev.cdeventsx.mytool-resource.created.0.1.0',
          links: [{ linkType: 'RELATION', linkKind: 'ARTIFACT', target: { contextId: 'a-1' } }],
          schemaUri: 'https://example.com/schemas/not-registered',
        },
        subject: { id: 'res-1', content: { anything: { goes: true } } },
      },
      origin,
    );
    assert.equal(result.ok, true, JSON.stringify(result));
    if (result.ok) {
      assert.equal(result.event.context.links?.length, 2);
      assert.equal(result.event.context.schemaUri, 'https://example.com/schemas/not-registered');
    }
  });

  test('without a task-run event id there is no link', () => {
    const { taskRunEventId: _omit, ...bare } = origin;
    const result = completeComponentEvent(
      {
        type: 'dev.cdevents.service.deployed.0.3.0',
        subject: { id: 's', content: { environment: { id: 'prod' }, artifactId: 'pkg:oci/app@sha256:1' } },
      },
      bare,
    );
    assert.equal(result.ok, true, JSON.stringify(result));
    if (result.ok) assert.equal(result.event.context.links, undefined);
  });

  test('invalid reports are refused with the path', () => {
    const cases: [unknown, string][] = [
      ['text', ''],
      [{ subject: { id: 'x', content: {} } }, '/type'],
      [{ type: 5, subject: { id: 'x', content: {} } }, '/type'],
      [{ type: 'dev.cdevents.artifact.published.0.3.0', subject: { content: {} } }, '/subject/id'],
      [
        { type: 'dev.cdevents.artifact.published.0.3.0', subject: { id: 'x', content: { bogus: 1 } } },
        '/subject/content/bogus',
      ],
      [{ type: 'dev.cdevents.artifact.published.0.2.0', subject: { id: 'x', content: {} } }, '/type'],
      [{ type: 'dev.cdevents.taskrun.finished.0.3.0', subject: { id: 'x', content: {} } }, '/type'],
      [{ type: 'dev.cdevents.pipelinerun.started.0.3.0', subject: { id: 'x', content: {} } }, '/type'],
      [
        { context: { id: 'mine', type: 'dev.cdevents.artifact.published.0.3.0' }, subject: { id: 'x', content: {} } },
        '/context/id',
      ],
      [{ context: 'x', type: 'dev.cdevents.artifact.published.0.3.0', subject: { id: 'x', content: {} } }, '/context'],
      [
        {
          type: 'dev.cdevents.artifact.published.0.3.0',
          context: { type: 'dev.cdevents.artifact.signed.0.3.0' },
          subject: { id: 'x', content: {} },
        },
        '/context/type',
      ],
      [
        { type: 'dev.cdevents.artifact.published.0.3.0', context: { links: 'no' }, subject: { id: 'x', content: {} } },
        '/context/links',
      ],
      [
        {
          type: 'dev.cdevents.artifact.published.0.3.0',
          context: { links: [{ linkType: 'START' }] },
          subject: { id: 'x', content: {} },
        },
        '/context/links/1',
      ],
      [{ type: 'dev.cdevents.artifact.published.0.3.0', subject: { id: 'x', content: {} }, extra: 1 }, '/extra'],
    ];
    for (const [partial, path] of cases) {
      const result = completeComponentEvent(partial, origin);
      assert.equal(result.ok, false, JSON.stringify(partial));
      if (!result.ok)
        assert.ok(
          result.errors.some((e) => e.path.startsWith(path)),
          `${path} in ${JSON.stringify(result.errors)}`,
        );
    }
  });
});
