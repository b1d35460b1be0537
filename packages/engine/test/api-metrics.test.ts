import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileWorkflow, createFileResolver } from '../src/plan-files/load.js';
import { parsePrometheusText, sumSamples, type Sample } from './api-metrics-text.js';
import { waitingWorkflow } from './serve-waiting-workflow.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

// The whole contract from a shell, with a TASK_STATUS in the middle.
const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: metered
stages:
  - name: s
    actions:
      - name: a
        run: |
          post() { curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$2" "$1"; }
          post "$CO_COMPONENT_START" '{}'
          post "$CO_TASK_START" '{}'
          post "$CO_TASK_STATUS" '{"message":"halfway","progress":0.5}'
          post "$CO_TASK_RESULT" '{"status":"success","output":{"n":1}}'
          post "$CO_COMPONENT_STOP" '{}'
`;

async function scrape(
  h: ApiHarness,
  token: string | null = null,
): Promise<{ status: number; text: string; type: string }> {
  const answer = await h.call('GET', '/metrics', { token });
  return { status: answer.status, text: String(answer.raw.body), type: String(answer.raw.headers['content-type']) };
}

describe('GET /metrics (public, the default)', () => {
  let h: ApiHarness;
  let before_: Sample[];
  let samples: Sample[];
  let text: string;
  before(async () => {
    h = await createApiHarness();
    before_ = parsePrometheusText((await scrape(h)).text);
    const file = join(h.dir, 'metered.workflow.yaml');
    await writeFile(file, WORKFLOW);
    const plan = await compileWorkflow(WORKFLOW, file, createFileResolver());
    const { engine } = h.server.runtime;
    const run = await engine.startRun(plan, {}, { trigger: { kind: 'manual' } });
    const final = await engine.waitForRun(run.id);
    assert.equal(final.state, 'succeeded', final.reason ?? '');
    const scraped = await scrape(h);
    assert.equal(scraped.status, 200);
    assert.match(scraped.type, /^text\/plain; version=0\.0\.4/);
    text = scraped.text;
    samples = parsePrometheusText(text);
  });
  after(async () => h.close());

  test('the text parses and holds the process metrics', () => {
    assert.ok(samples.length > 50, `${samples.length} samples`);
    assert.ok((sumSamples(samples, 'process_cpu_user_seconds_total') ?? 0) > 0);
    assert.ok(sumSamples(samples, 'nodejs_heap_size_used_bytes') !== undefined);
  });

  test('runs by state and the queue depth are read from the store', () => {
    assert.equal(sumSamples(before_, 'pilotage_runs', { state: 'succeeded' }), 0);
    assert.equal(sumSamples(samples, 'pilotage_runs', { state: 'succeeded' }), 1);
    for (const state of ['queued', 'running', 'failed', 'errored', 'cancelled']) {
      assert.equal(sumSamples(samples, 'pilotage_runs', { state }), 0, state);
    }
    assert.equal(sumSamples(samples, 'pilotage_queue_depth'), 0);
    assert.equal(sumSamples(samples, 'pilotage_runs_active'), 0);
    assert.equal(sumSamples(samples, 'pilotage_task_attempts_active'), 0);
    assert.equal(sumSamples(samples, 'pilotage_event_deliveries_pending'), 0);
  });

  test('the task run is in the duration histogram by outcome and executor', () => {
    const labels = { outcome: 'succeeded', executor: 'local' };
    assert.equal(sumSamples(before_, 'pilotage_task_run_duration_seconds_count', labels), undefined);
    assert.equal(sumSamples(samples, 'pilotage_task_run_duration_seconds_count', labels), 1);
    assert.ok((sumSamples(samples, 'pilotage_task_run_duration_seconds_sum', labels) ?? 0) > 0);
    assert.equal(sumSamples(samples, 'pilotage_task_run_duration_seconds_bucket', { ...labels, le: '+Inf' }), 1);
  });

  test('each callback step is timed, labelled by step and status, never by URL', () => {
    for (const step of ['component-start', 'task-start', 'task-status', 'task-result', 'component-stop']) {
      assert.equal(sumSamples(samples, 'pilotage_callback_duration_seconds_count', { step, status: '200' }), 1, step);
    }
    const route = '/v1/callbacks/:token/:step';
    assert.equal(sumSamples(samples, 'pilotage_http_request_duration_seconds_count', { route, method: 'POST' }), 5);
    assert.doesNotMatch(text, /\/v1\/callbacks\/(?!:token)/, 'no callback URL (token) in the metrics');
  });

  test('HTTP requests are timed by route pattern; unknown paths share one label', async () => {
    await h.call('GET', '/v1/nothing/12345', { token: null });
    const now = parsePrometheusText((await scrape(h)).text);
    assert.ok(
      (sumSamples(now, 'pilotage_http_request_duration_seconds_count', { route: '/metrics', status: '200' }) ?? 0) >= 2,
    );
    assert.equal(
      sumSamples(now, 'pilotage_http_request_duration_seconds_count', { route: 'unmatched', status: '404' }),
      1,
    );
    assert.doesNotMatch((await scrape(h)).text, /12345/);
  });

  test('while a task runs, the active gauges and the running count show it', async () => {
    const workflow = await waitingWorkflow(h.dir, 'metered-wait');
    const { engine } = h.server.runtime;
    const run = await engine.startRun(workflow.plan, {}, { trigger: { kind: 'manual' } });
    await workflow.started();
    const during = parsePrometheusText((await scrape(h)).text);
    assert.equal(sumSamples(during, 'pilotage_runs', { state: 'running' }), 1);
    assert.equal(sumSamples(during, 'pilotage_runs_active'), 1);
    assert.equal(sumSamples(during, 'pilotage_task_attempts_active'), 1);
    await workflow.release();
    assert.equal((await engine.waitForRun(run.id)).state, 'succeeded');
    const afterwards = parsePrometheusText((await scrape(h)).text);
    assert.equal(sumSamples(afterwards, 'pilotage_runs', { state: 'running' }), 0);
    assert.equal(sumSamples(afterwards, 'pilotage_runs', { state: 'succeeded' }), 2);
    assert.equal(sumSamples(afterwards, 'pilotage_runs_active'), 0);
    assert.equal(sumSamples(afterwards, 'pilotage_task_attempts_active'), 0);
    assert.equal(
      sumSamples(afterwards, 'pilotage_task_run_duration_seconds_count', { outcome: 'succeeded', executor: 'local' }),
      2,
    );
  });

  test('the OpenAPI document lists /metrics as public', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    assert.deepEqual(doc.paths['/metrics'].get.security, []);
    assert.deepEqual(doc.paths['/metrics'].get.tags, ['metrics']);
  });
});

describe('GET /metrics with metricsPublic false', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness({ config: { metricsPublic: false } });
  });
  after(async () => h.close());

  test('without a token it is 401; a read token gets the metrics', async () => {
    const none = await h.call('GET', '/metrics', { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'UNAUTHORIZED');
    assert.equal((await h.call('GET', '/metrics', { token: 'plt_wrong' })).status, 401);
    const reader = await scrape(h, await h.token('read'));
    assert.equal(reader.status, 200);
    assert.ok(parsePrometheusText(reader.text).some((s) => s.name === 'pilotage_runs'));
  });

  test('the OpenAPI document shows it needs the bearer token', async () => {
    const doc = (await h.call('GET', '/openapi.json', { token: null })).body;
    assert.equal(doc.paths['/metrics'].get.security, undefined, 'inherits the global bearer requirement');
  });
});
