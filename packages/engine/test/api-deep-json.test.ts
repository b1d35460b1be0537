import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyWorkflow } from './api-runs-support.js';
import { sharedMissing } from './events-fixtures.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli } from './support/cli.js';

const LIMIT = /nests objects and lists deeper than 100 levels, the limit for JSON input/;
const deep = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

// Each of these answered 500 (a stack overflow) before: 5,000 levels fit in the 1 MiB limit.
describe('JSON deeper than the limit is refused with 400 wherever it comes in', { concurrency: false }, () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness();
    await applyWorkflow(
      h,
      'deep',
      'triggers:\n  - cdevent: { type: dev.cdevents.artifact.published }\nstages:\n  - name: s\n    actions:\n      - name: a\n        run: "true"\n',
    );
  });
  after(() => h?.close());

  test('an API body: run data nested 5,000 deep', async () => {
    const answer = await h.call('POST', '/v1/workflows/deep/runs', {
      payload: `{"data":${deep(5000)}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'VALIDATION');
    assert.match(answer.body.message, LIMIT);
  });

  test('a CDEvent nested 3,000 deep starts no run and records no receipt; its retry is handled', async (t) => {
    if (sharedMissing) return t.skip('the shared CDEvents folder is missing');
    const id = 'deep-event-1';
    const source = '/test/deep';
    const valid = {
      context: {
        specversion: '0.5.1',
        id,
        source,
        type: 'dev.cdevents.artifact.published.0.3.0',
        timestamp: new Date().toISOString(),
      },
      subject: { id: 'pkg:npm/x@1.0.0', content: { user: 'someone' } },
    };
    const headers = {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-source': source,
      'ce-type': valid.context.type,
    };
    const before = (await h.call('GET', '/v1/runs?workflow=deep')).body.runs.length;
    const payload = JSON.stringify(valid).replace('"content":{', `"content":{"deep":${deep(3000)},`);
    const refused = await h.call('POST', '/v1/cdevents', { payload, headers });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.message, LIMIT);
    assert.equal((await h.call('GET', '/v1/runs?workflow=deep')).body.runs.length, before, 'no run started');
    assert.equal(await h.server.runtime.store.inbox.get(source, id), undefined, 'no receipt');
    const retry = await h.call('POST', '/v1/cdevents', { payload: JSON.stringify(valid), headers });
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    assert.equal(retry.body.duplicate, false);
    assert.deepEqual(
      retry.body.runs.map((r: { workflow: string }) => r.workflow),
      ['deep'],
    );
  });

  test('an event data file: pilotage run --data @file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-deep-'));
    try {
      const file = join(dir, 'data.json');
      await writeFile(file, deep(5000));
      const workflow = join(dir, 'wf.yaml');
      await writeFile(
        workflow,
        'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: w\nstages:\n  - name: s\n    actions:\n      - name: a\n        run: "true"\n',
      );
      const result = await runCli(['run', workflow, '--data', `@${file}`, '--db', join(dir, 'db.sqlite')]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, LIMIT);
      assert.doesNotMatch(result.stderr, /RangeError|at .*\.js:\d+/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The dispatcher's other half of all-or-nothing: a start failing for a reason other than the
// workflow's own (the store, a bug) cancels the runs the event had started, and the API forgets
// the receipt, so that the sender's retry is handled.
test('a CDEvent whose handling fails midway leaves no run going and no receipt', async () => {
  const { createCdeventDispatcher } = await import('../src/events/cdevent-dispatcher.js');
  const cancelled: string[] = [];
  let starts = 0;
  const plan = { triggers: [{ kind: 'cdevent', type: 'dev.cdevents.artifact.published', at: 'x' }] };
  const dispatcher = createCdeventDispatcher({
    workflows: {
      list: async () => [
        { name: 'one', enabled: true, latestVersion: 1 },
        { name: 'two', enabled: true, latestVersion: 1 },
      ],
      getVersion: async () => ({ plan }),
    } as any,
    starter: {
      start: async (request: { workflow: string }) => {
        if (++starts === 2) throw new Error('the store is gone');
        return { id: `run-${request.workflow}`, workflow: request.workflow, number: 1 };
      },
    } as any,
    cancel: async (runId: string) => void cancelled.push(runId),
  });
  const event = {
    context: {
      id: 'e1',
      source: '/s',
      type: 'dev.cdevents.artifact.published.0.3.0',
      specversion: '0.5.1',
      timestamp: '',
    },
    subject: { id: 'x', content: {} },
  };
  await assert.rejects(dispatcher.dispatch(event as any), /the store is gone/);
  assert.deepEqual(cancelled, ['run-one']);
});
