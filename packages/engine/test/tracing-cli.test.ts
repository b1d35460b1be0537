import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from './support/cli.js';
import { cliModules } from './support/loaded-modules.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';

const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/**
 * The tracing adapter and the OpenTelemetry SDK among `modules`. The API package alone is left
 * out: prom-client (the server's metrics) loads it on its own when it is installed.
 */
function tracingModules(modules: readonly string[]): string[] {
  return modules.filter(
    (m) => m.includes('tracing/otel-tracing') || (m.includes('@opentelemetry/') && !m.includes('@opentelemetry/api/')),
  );
}

describe('pilotage run: traces exported when an endpoint is set, nothing loaded or sent when not', () => {
  let receiver: OtlpReceiver;
  let dir: string;
  let workflow: string;
  before(async () => {
    receiver = await startOtlpReceiver();
    dir = await mkdtemp(join(tmpdir(), 'pilotage-trace-cli-'));
    workflow = join(dir, 'hello.yaml');
    await writeFile(
      workflow,
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: hello\nstages:\n  - name: s\n    actions:\n      - name: greet\n        run: echo "traceparent=$TRACEPARENT"\n',
    );
  });
  after(async () => {
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("PILOTAGE_OTEL_ENDPOINT: the run's spans are exported before the command exits, in the caller's TRACEPARENT", async () => {
    const before = receiver.spans.length;
    const result = await cliModules(['run', workflow, '--db', ':memory:', '--plain'], {
      env: { PILOTAGE_OTEL_ENDPOINT: receiver.url, TRACEPARENT: CALLER },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(tracingModules(result.modules).length > 0, 'the adapter was loaded');
    const spans = receiver.spans.slice(before);
    const run = spans.find((s) => s.name === 'run hello');
    assert.ok(run, `the run span arrived before exit: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(run.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(run.parentSpanId, 'b7ad6b7169203331');
    assert.ok(spans.some((s) => s.name === 'attempt greet #1' && s.traceId === run.traceId));
  });

  test('the standard OTEL_EXPORTER_OTLP_ENDPOINT works too', async () => {
    const before = receiver.spans.length;
    const result = await runCli(['run', workflow, '--db', ':memory:', '--plain'], {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    assert.equal(result.code, 0, result.stderr);
    const run = receiver.spans.slice(before).find((s) => s.name === 'run hello');
    assert.ok(run, 'exported');
    assert.equal(run.parentSpanId, '', 'no caller trace: a root span');
  });

  test('no endpoint: no OpenTelemetry module is loaded and nothing is sent', async () => {
    const requests = receiver.requests();
    const result = await cliModules(['run', workflow, '--db', ':memory:', '--plain'], {
      env: { TRACEPARENT: CALLER },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      result.modules.some((m) => m.includes('better-sqlite3')),
      'the recorder sees modules',
    );
    assert.deepEqual(tracingModules(result.modules), [], 'OpenTelemetry SDK modules were loaded');
    assert.equal(receiver.requests(), requests);
  });

  test('OTEL_SDK_DISABLED=true turns tracing off even with an endpoint', async () => {
    const requests = receiver.requests();
    const result = await cliModules(['run', workflow, '--db', ':memory:', '--plain'], {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(tracingModules(result.modules), []);
    assert.equal(receiver.requests(), requests);
  });
});
