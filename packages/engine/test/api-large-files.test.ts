import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { largeWorkflow } from './support/large-workflow.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

let api: ApiHarness;
before(async () => {
  api = await createApiHarness();
});
after(() => api.close());

// A large file used to be compiled on the event loop: applying a 1,000-stage workflow froze every
// request for seconds. It is compiled on a worker thread now; /healthz keeps answering meanwhile.
// (The server runs in this process, so a blocked loop would stop this test's requests too.)
test('the server keeps answering while it compiles a 10,000-action workflow', async () => {
  const text = largeWorkflow(100, 100, 'large-apply');
  const url = api.server.url;
  const headers = { authorization: `Bearer ${api.admin}` };
  let applied = false;
  const put = fetch(`${url}/v1/workflows/large-apply`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/yaml' },
    body: text,
  }).then(async (response) => {
    applied = true;
    return { status: response.status, body: (await response.json()) as { version?: number } };
  });
  let answered = 0;
  while (!applied) {
    const health = await fetch(`${url}/healthz`);
    await health.arrayBuffer();
    if (!applied && health.status === 200) answered++;
  }
  const result = await put;
  assert.equal(result.status, 201, JSON.stringify(result.body));
  assert.equal(result.body.version, 1);
  assert.ok(answered >= 5, `/healthz answered ${answered} time(s) while the workflow compiled`);
});

test('component files are compiled on the thread too, with their issues by line', async () => {
  const bad = ['apiVersion: pilotage.dev/v1', 'kind: Component', 'name: big', 'version: 1.0.0', 'command: 3'].join(
    '\n',
  );
  const answer = await api.call('POST', '/v1/components', {
    payload: bad,
    headers: { 'content-type': 'application/yaml' },
  });
  assert.equal(answer.status, 422, JSON.stringify(answer.body));
  assert.equal(answer.body.code, 'PLAN_INVALID');
  assert.match(JSON.stringify(answer.body), /component\.yaml:5:10/);
});
