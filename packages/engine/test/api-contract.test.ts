import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { routes, type RouteSpec } from '@pilotage/api';
import { contractStatesMatch } from '../src/api/run-views.js';
import { NAME_PATTERN } from '../src/plan/schema-defs.js';
import { NAME_PATTERN as CONTRACT_NAME_PATTERN } from '@pilotage/api';
import { applyWorkflow, waitForEnd } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

/** `/v1/runs/:id` → `/v1/runs/{id}`, as the OpenAPI document writes paths. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

describe('the typed API contract (@pilotage/api)', () => {
  let h: ApiHarness;
  let doc: any;
  before(async () => {
    h = await createApiHarness();
    doc = (await h.call('GET', '/openapi.json', { token: null })).body;
  });
  after(() => h.close());

  test('states and names are the domain’s', () => {
    assert.equal(contractStatesMatch(), true);
    assert.equal(CONTRACT_NAME_PATTERN, NAME_PATTERN);
  });

  test('every route of the contract is served with its parameters, answers and events', () => {
    for (const [name, spec] of Object.entries(routes) as [string, RouteSpec][]) {
      const operation = doc.paths[openApiPath(spec.path)]?.[spec.method.toLowerCase()];
      assert.ok(operation, `${name}: ${spec.method} ${spec.path} is not in the OpenAPI document`);
      const params = (operation.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      assert.deepEqual(params.sort(), Object.keys(spec.params?.properties ?? {}).sort(), `${name}: path parameters`);
      const query = (operation.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name);
      assert.deepEqual(query.sort(), Object.keys(spec.querystring?.properties ?? {}).sort(), `${name}: query`);
      for (const [status, schema] of Object.entries(spec.response)) {
        const answer = operation.responses[status];
        assert.ok(answer, `${name}: answer ${status} is not documented`);
        const documented = answer.content?.['application/json']?.schema;
        const expected = (schema as { properties?: object }).properties;
        if (expected !== undefined && documented?.properties !== undefined) {
          assert.deepEqual(
            Object.keys(documented.properties).sort(),
            Object.keys(expected).sort(),
            `${name} ${status}`,
          );
        }
      }
      if (spec.events !== undefined) {
        const stream = operation.responses['200']?.content?.['text/event-stream'];
        assert.ok(stream, `${name}: no text/event-stream answer`);
        assert.deepEqual(Object.keys(stream['x-sse-events']).sort(), Object.keys(spec.events).sort());
        const named = stream.itemSchema.oneOf.map(
          (item: any) => item.properties.event.enum?.[0] ?? item.properties.event.const,
        );
        assert.deepEqual(named.sort(), Object.keys(spec.events).sort(), `${name}: itemSchema names each event`);
      } else {
        assert.ok(Object.keys(spec.response).length > 0, `${name}: a JSON route documents its success answer`);
      }
    }
  });

  test('the OpenAPI document describes the run stream’s payloads', () => {
    const stream = doc.paths['/v1/runs/{id}/events'].get.responses['200'].content['text/event-stream'];
    const snapshot = stream.itemSchema.oneOf.find(
      (item: any) => (item.properties.event.enum?.[0] ?? item.properties.event.const) === 'snapshot',
    );
    assert.deepEqual(Object.keys(snapshot.properties.data.properties).sort(), ['run', 'stages', 'tasks']);
    const log =
      doc.paths['/v1/runs/{id}/tasks/{taskRunId}/logs/stream'].get.responses['200'].content['text/event-stream'][
        'x-sse-events'
      ].log;
    assert.deepEqual(Object.keys(log.properties).sort(), ['at', 'line', 'seq', 'stream']);
  });

  test('a run view costs the same number of store queries for 1 and for 40 task runs', async () => {
    const counted = ['runs.get', 'taskRuns.listByRun', 'transitions.list', 'transitions.listForRun'];
    counted.push('statuses.list', 'statuses.listForRun');
    const store = h.server.runtime.store as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>;
    const calls = new Map<string, number>();
    for (const key of counted) {
      const [area, method] = key.split('.') as [string, string];
      const original = store[area]![method]!.bind(store[area]);
      store[area]![method] = (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return original(...args);
      };
    }
    const queriesFor = async (actions: number): Promise<number> => {
      const name = `wide-${actions}`;
      const list = Array.from(
        { length: actions },
        (_, i) => `      - name: a${i}\n        run: echo '[COUT] n=${i}'\n`,
      ).join('');
      await applyWorkflow(h, name, `stages:\n  - name: only\n    actions:\n${list}`);
      const started = await h.call('POST', `/v1/workflows/${name}/runs`, { body: {} });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const ended = await waitForEnd(h, started.body.id, 60_000);
      assert.equal(ended.run.state, 'succeeded');
      calls.clear();
      const answer = await h.call('GET', `/v1/runs/${started.body.id}`);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.actions.length, actions);
      assert.ok(answer.body.actions.every((a: any) => a.attempts[0].transitions.length >= 3));
      return [...calls.values()].reduce((a, b) => a + b, 0);
    };
    const one = await queriesFor(1);
    const forty = await queriesFor(40);
    assert.equal(forty, one, 'queries do not grow with the task runs');
    assert.ok(one <= 4, `at most 4 store reads, got ${one}`);
  });
});
