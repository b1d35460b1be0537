import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileWorkflow, createFileResolver } from '../src/plan-files/load.js';
import { applyWorkflow, waitForEnd, waitForRun } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';

// stage 2's `flaky` fails until a flag file exists in the data dir; `build` counts its runs
const PIPELINE = `inputs: { type: object, required: [dir], properties: { dir: { type: string } } }
stages:
  - name: one
    actions:
      - name: build
        with: "\${{ inputs }}"
        run: |
          echo built >> "$CO_INPUT_DIR/build-count"
          echo "building"
          echo "[COUT] artifact=app-1.0"
  - name: two
    actions:
      - name: flaky
        with: { dir: "\${{ inputs.dir }}", artifact: "\${{ actions.build.outputs.artifact }}" }
        run: |
          echo "testing $CO_INPUT_ARTIFACT"
          echo tried >> "$CO_INPUT_DIR/flaky-count"
          if [ -f "$CO_INPUT_DIR/fixed" ]; then echo "[COUT] verdict=ok"; exit 0; fi
          echo "not fixed yet" >&2
          exit 1
      - name: lint
        with: "\${{ inputs }}"
        run: echo linted >> "$CO_INPUT_DIR/lint-count"
  - name: three
    actions:
      - name: ship
        with: { artifact: "\${{ actions.build.outputs.artifact }}", verdict: "\${{ actions.flaky.outputs.verdict }}" }
        run: echo "shipping $CO_INPUT_ARTIFACT ($CO_INPUT_VERDICT)"
`;

async function lines(file: string): Promise<number> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

describe('rerun: from the failed action reusing what succeeded, or from the start', () => {
  let h: ApiHarness;
  let runner: string;
  before(async () => {
    h = await createApiHarness();
    runner = await h.token('run');
    await applyWorkflow(h, 'pipeline', PIPELINE);
  });
  after(async () => h.close());

  test('rerun from failed: build and lint are reused (no process, no log), flaky and ship run again', async () => {
    const dir = h.dir;
    const first = await h.call('POST', '/v1/workflows/pipeline/runs', { body: { data: { dir } } });
    assert.equal(first.status, 201);
    const failed = await waitForEnd(h, first.body.id);
    assert.equal(failed.run.state, 'failed');
    assert.deepEqual(
      failed.actions.map((a: any) => [a.name, a.state]),
      [
        ['build', 'succeeded'],
        ['flaky', 'failed'],
        ['lint', 'succeeded'],
        ['ship', 'skipped'],
      ],
    );
    const oldBuild = failed.actions[0].attempts[0];
    await writeFile(join(dir, 'fixed'), '');

    const rerun = await h.call('POST', `/v1/runs/${first.body.id}/rerun`, { token: runner });
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    assert.notEqual(rerun.body.id, first.body.id);
    assert.deepEqual(rerun.body.trigger, {
      kind: 'rerun',
      by: 'test-run',
      details: { of: first.body.id, from: 'failed' },
    });
    assert.equal(rerun.body.workflowVersion, failed.run.workflowVersion);
    assert.deepEqual(rerun.body.inputs, failed.run.inputs);

    const done = await waitForEnd(h, rerun.body.id);
    assert.equal(done.run.state, 'succeeded', JSON.stringify(done.actions));
    const [build, flaky, lint, ship] = done.actions;
    for (const reused of [build, lint]) {
      assert.equal(reused.state, 'succeeded');
      assert.equal(reused.attempts.length, 1);
      assert.equal(reused.attempts[0].reason, `reused from run ${first.body.id}`);
      assert.equal(reused.attempts[0].ref, null, 'no process was started');
      assert.deepEqual(
        reused.attempts[0].transitions.map((t: any) => t.to),
        ['pending', 'succeeded'],
      );
    }
    assert.equal(build.attempts[0].facts.reusedFrom, oldBuild.id);
    assert.deepEqual(build.attempts[0].output, { artifact: 'app-1.0' });
    const buildLogs = await h.call('GET', `/v1/runs/${rerun.body.id}/tasks/${build.attempts[0].id}/logs`);
    assert.deepEqual(buildLogs.body.lines, [], 'a reused action writes no log');
    assert.equal(await lines(join(dir, 'build-count')), 1, 'build ran once, in the first run only');
    assert.equal(await lines(join(dir, 'lint-count')), 1, 'lint ran once, in the first run only');
    assert.equal(await lines(join(dir, 'flaky-count')), 2, 'flaky ran again');

    assert.equal(flaky.state, 'succeeded');
    assert.equal(flaky.attempts[0].reason, null);
    assert.deepEqual(flaky.attempts[0].eventData, { dir, artifact: 'app-1.0' }, 'the reused output feeds expressions');
    assert.equal(ship.state, 'succeeded');
    const shipLogs = await h.call('GET', `/v1/runs/${rerun.body.id}/tasks/${ship.attempts[0].id}/logs`);
    assert.deepEqual(
      shipLogs.body.lines.map((l: any) => l.line),
      ['shipping app-1.0 (ok)'],
    );

    const listed = await h.call('GET', '/v1/runs?trigger=rerun');
    assert.deepEqual(
      listed.body.runs.map((r: any) => r.id),
      [rerun.body.id],
    );

    // the rerun succeeded: from "failed" has nothing to do; from "start" runs everything
    const nothing = await h.call('POST', `/v1/runs/${rerun.body.id}/rerun`, { body: { from: 'failed' } });
    assert.equal(nothing.status, 409);
    assert.match(nothing.body.message, /nothing failed to rerun/);
    const all = await h.call('POST', `/v1/runs/${rerun.body.id}/rerun`, { body: { from: 'start' } });
    assert.equal(all.status, 201);
    assert.equal(all.body.trigger.details.from, 'start');
    const again = await waitForEnd(h, all.body.id);
    assert.equal(again.run.state, 'succeeded');
    assert.ok(again.actions.every((a: any) => a.attempts[0].reason === null));
    assert.equal(await lines(join(dir, 'build-count')), 2, 'from start: build ran again');
  });

  test('rerun refuses: 409 while running and for a local run, 404, 400 naming the field, 403 read, 401', async () => {
    const gate = join(h.dir, 'gate-never');
    await applyWorkflow(
      h,
      'slow',
      `inputs: { type: object, properties: { gate: { type: string } } }
stages: [{ name: s, actions: [{ name: a, with: "\${{ inputs }}", run: 'while [ ! -f "$CO_INPUT_GATE" ]; do sleep 0.05; done' }] }]
`,
    );
    const started = await h.call('POST', '/v1/workflows/slow/runs', { body: { data: { gate } } });
    await waitForRun(h, started.body.id, (d) => d.run.state === 'running');
    const running = await h.call('POST', `/v1/runs/${started.body.id}/rerun`, { body: {} });
    assert.equal(running.status, 409);
    assert.match(running.body.message, /still running/);
    assert.equal((await h.call('POST', `/v1/runs/${started.body.id}/cancel`)).status, 202);
    await waitForEnd(h, started.body.id);

    // a run started like `pilotage run FILE` does: no stored workflow behind it
    const plan = compileWorkflow(
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: pipeline\nversion: 1\nstages: [{ name: s, actions: [{ name: a, run: "exit 1" }] }]\n',
      join(h.dir, 'local.yaml'),
      createFileResolver(),
    );
    const local = await h.server.runtime.engine.startRun(plan, {}, { trigger: { kind: 'cli', by: 'me' } });
    await h.server.runtime.engine.waitForRun(local.id);
    const refused = await h.call('POST', `/v1/runs/${local.id}/rerun`, { body: {} });
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /not started from a workflow stored on this server/);

    assert.equal((await h.call('POST', '/v1/runs/01NOPE/rerun', { body: {} })).status, 404);
    const bad = await h.call('POST', `/v1/runs/${started.body.id}/rerun`, { body: { from: 'middle' } });
    assert.equal(bad.status, 400);
    assert.ok(
      bad.body.details.some((d: any) => d.field === 'body.from'),
      JSON.stringify(bad.body),
    );
    const reader = await h.token('read');
    assert.equal((await h.call('POST', `/v1/runs/${started.body.id}/rerun`, { token: reader, body: {} })).status, 403);
    assert.equal((await h.call('POST', `/v1/runs/${started.body.id}/rerun`, { token: null, body: {} })).status, 401);
  });
});
