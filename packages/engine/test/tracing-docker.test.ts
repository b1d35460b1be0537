import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { newId } from '../src/domain/ids.js';
import { createHarness, type Harness } from './support/harness.js';
import { ensureTestImages, TEST_IMAGES } from './support/images.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import {
  leftoversOfRun,
  podmanSkipReason,
  removeEngineLeftovers,
  startPodmanService,
  type PodmanService,
} from './support/podman.js';

describe(
  "traces on the docker executor (Podman): the executor's steps, TRACEPARENT in the container",
  { skip: podmanSkipReason() },
  () => {
    const engineId = `test-trace-${newId().toLowerCase()}`;
    let podman: PodmanService;
    let docker: Docker;
    let receiver: OtlpReceiver;
    let h: Harness;

    before(async () => {
      podman = await startPodmanService();
      docker = new Docker({ socketPath: podman.socketPath });
      await ensureTestImages(docker, ['base']);
      receiver = await startOtlpReceiver();
      h = await createHarness({
        executor: 'docker',
        config: { executor: 'docker', dockerHost: podman.dockerHost, engineId, otelEndpoint: receiver.url },
        leftovers: (runId) => leftoversOfRun(docker, runId),
      });
    });
    after(async () => {
      await h?.close();
      await receiver?.close();
      if (docker !== undefined) await removeEngineLeftovers(docker, engineId);
      await podman?.stop();
    });

    test('image pull, container create and container start are spans of the attempt; the container gets TRACEPARENT', async () => {
      const { run, byAction } = await h.run(`name: traced-container
stages:
  - name: only
    actions:
      - name: boxed
        image: ${TEST_IMAGES.base}
        run: echo "[COUT] traceparent=$TRACEPARENT"
`);
      assert.equal(run.state, 'succeeded', run.reason ?? '');
      await h.runtime.close();
      const spans = receiver.spans.filter((s) => s.attributes['pilotage.run.id'] === run.id);
      const runSpan = spans[0];
      assert.ok(runSpan, 'the run span was exported');
      const inTrace = receiver.spans.filter((s) => s.traceId === runSpan.traceId);
      const attempt = inTrace.find((s) => s.name === 'attempt boxed #1')!;
      const start = inTrace.find((s) => s.name === 'start on docker' && s.parentSpanId === attempt.spanId);
      assert.ok(start, 'the start span');
      assert.deepEqual(
        inTrace
          .filter((s) => s.parentSpanId === start.spanId)
          .map((s) => s.name)
          .sort(),
        ['container create', 'container start', 'image pull'],
      );
      assert.ok(inTrace.some((s) => s.name === 'teardown' && s.parentSpanId === attempt.spanId));
      const seen = String(byAction.get('boxed')!.output['traceparent']);
      assert.equal(seen, `00-${runSpan.traceId}-${attempt.spanId}-01`);
      assert.deepEqual(await h.leftovers(run.id), []);
    });
  },
);
