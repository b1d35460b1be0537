import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyWorkflow, q, waitForEnd } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli } from './support/cli.js';
import { createHarness, eventually, type Harness } from './support/harness.js';

const CHILD = `apiVersion: pilotage.dev/v1
kind: Workflow
name: deploy
inputs: { type: object, required: [target], properties: { target: { type: string } } }
outputs:
  url: "https://\${{ inputs.target }}.example.com/\${{ actions.ship.outputs.id }}"
stages:
  - name: ship
    actions:
      - name: ship
        with: { target: "\${{ inputs.target }}" }
        run: 'echo "[COUT] id=$CO_INPUT_TARGET-42"'
`;

/** Reusable workflows run locally: the called file is a path next to the caller. */
describe('uses: a workflow file, run locally', { concurrency: false }, () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ executor: 'local' });
    await h.write('deploy.yaml', CHILD);
  });
  after(async () => {
    await h?.close();
  });

  test('a parent calls a child workflow with inputs; its outputs become the action’s outputs', async () => {
    const { run, byAction } = await h.run(`name: release
outputs: { where: "\${{ actions.deploy.outputs.url }}" }
stages:
  - name: deploy
    actions:
      - name: deploy
        uses: ./deploy.yaml
        with: { target: prod }
  - name: announce
    actions:
      - name: announce
        with: { url: "\${{ actions.deploy.outputs.url }}" }
        run: 'echo "announcing $CO_INPUT_URL"'
`);
    assert.equal(run.state, 'succeeded', run.reason ?? '');
    assert.deepEqual(run.outputs, { where: 'https://prod.example.com/prod-42' });
    const deploy = byAction.get('deploy')!;
    assert.equal(deploy.state, 'succeeded');
    assert.equal(deploy.component, 'workflow:deploy@0');
    assert.equal(deploy.executor, 'none');
    assert.deepEqual(deploy.output, { url: 'https://prod.example.com/prod-42' });
    const child = (await h.runtime.store.runs.get(deploy.ref!))!;
    assert.equal(child.workflow, 'deploy');
    assert.equal(child.state, 'succeeded');
    assert.deepEqual(child.parent, { runId: run.id, taskRunId: deploy.id });
    assert.equal(child.chainId, run.chainId, 'one CDEvents chain');
    assert.deepEqual(child.trigger, {
      kind: 'call',
      by: `release #${run.number}`,
      details: { runId: run.id, taskRunId: deploy.id },
    });
    assert.deepEqual(child.inputs, { target: 'prod' });
    assert.deepEqual(deploy.facts, { childRun: child.id });
    assert.deepEqual(
      (await h.runtime.store.runs.list({ parentRunId: run.id })).map((r) => r.id),
      [child.id],
    );
    assert.deepEqual(byAction.get('announce')!.eventData, { url: 'https://prod.example.com/prod-42' });
  });

  test('a matrix of calls runs one child per combination; a failed child fails its action', async () => {
    const { run, tasks } = await h.run(`name: regions
stages:
  - name: deploy
    actions:
      - name: deploy
        uses: ./deploy.yaml
        matrix: { target: [eu, us] }
        with: { target: "\${{ matrix.target }}" }
  - name: bad
    actions:
      - name: bad
        uses: ./deploy.yaml
        with: { target: "\${{ 40 + 2 }}" }
`);
    assert.equal(run.state, 'errored');
    const deploys = tasks
      .filter((t) => t.matrix?.action === 'deploy')
      .sort((a, b) => a.matrix!.index - b.matrix!.index);
    assert.deepEqual(
      deploys.map((t) => [t.action, t.state, t.output]),
      [
        ['deploy (eu)', 'succeeded', { url: 'https://eu.example.com/eu-42' }],
        ['deploy (us)', 'succeeded', { url: 'https://us.example.com/us-42' }],
      ],
    );
    const bad = tasks.find((t) => t.action === 'bad')!;
    assert.equal(bad.state, 'errored');
    assert.match(
      bad.reason ?? '',
      /could not start the called workflow: the event data does not match the inputs of workflow deploy: \/target: must be string/,
    );
  });

  test('cancelling the parent cancels the child run', async () => {
    await h.write(
      'slow.yaml',
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: slow
stages:
  - name: wait
    actions:
      - { name: wait, run: "sleep 300" }
`,
    );
    const started = await h.start(`name: calls-slow
stages:
  - name: call
    actions:
      - { name: call, uses: ./slow.yaml }
`);
    const child = await eventually(
      async () => {
        const [found] = await h.runtime.store.runs.list({ parentRunId: started.id });
        const tasks = found ? await h.runtime.store.taskRuns.listByRun(found.id) : [];
        return tasks.some((t) => t.state === 'running') ? found : undefined;
      },
      10_000,
      'the child run’s action to run',
    );
    await h.runtime.engine.cancelRun(started.id, 'stop everything');
    const run = await h.runtime.engine.waitForRun(started.id);
    assert.equal(run.state, 'cancelled');
    const ended = await h.runtime.engine.waitForRun(child!.id);
    assert.equal(ended.state, 'cancelled');
    assert.match(ended.reason ?? '', /its parent run .* stopped \(stop everything\)/);
    const call = (await h.runtime.store.taskRuns.listByRun(run.id)).find((t) => t.action === 'call')!;
    assert.equal(call.state, 'cancelled');
    assert.deepEqual(await h.leftovers(child!.id), []);
  });

  test('a called workflow in its caller’s concurrency group is refused, not left waiting forever', async () => {
    await h.write(
      'grouped-child.yaml',
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: grouped-child
concurrency: { group: "deploy-\${{ inputs.env }}" }
inputs: { type: object, properties: { env: { type: string } } }
stages:
  - name: only
    actions:
      - { name: only, run: "true" }
`,
    );
    const { run, byAction } = await h.run(
      `name: grouped-parent
concurrency: deploy-prod
stages:
  - name: call
    actions:
      - { name: same, uses: ./grouped-child.yaml, with: { env: prod } }
      - { name: other, uses: ./grouped-child.yaml, with: { env: staging } }
`,
    );
    assert.equal(run.state, 'errored');
    assert.equal(byAction.get('other')!.state, 'succeeded', 'another group is fine');
    const same = byAction.get('same')!;
    assert.equal(same.state, 'errored');
    assert.match(
      same.reason ?? '',
      /could not start the called workflow: workflow grouped-child is in concurrency group deploy-prod, which its caller grouped-parent #\d+ holds/,
    );
  });

  test('pilotage run follows the child’s progress and runs show links both ways', async () => {
    const dir = h.dir;
    await writeFile(
      join(dir, 'parent.yaml'),
      `apiVersion: pilotage.dev/v1
kind: Workflow
name: cli-parent
stages:
  - name: deploy
    actions:
      - { name: deploy, uses: ./deploy.yaml, with: { target: cli } }
`,
    );
    const db = join(dir, 'cli.db');
    const env = { PILOTAGE_DATA_DIR: dir };
    const ran = await runCli(['run', join(dir, 'parent.yaml'), '--plain', '--db', db], { env });
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    assert.match(ran.stdout, /↳ deploy #\d+ ship\/ship succeeded/);
    const listed = await runCli(['runs', 'list', '--db', db, '--json'], { env });
    const runs = JSON.parse(listed.stdout).runs as { id: string; workflow: string; parent: unknown }[];
    const parent = runs.find((r) => r.workflow === 'cli-parent')!;
    const child = runs.find((r) => r.workflow === 'deploy')!;
    const shown = await runCli(['runs', 'show', child.id, '--db', db], { env });
    assert.match(shown.stdout, new RegExp(`called by run ${parent.id}`));
    const parentShown = await runCli(['runs', 'show', parent.id, '--db', db], { env });
    assert.match(parentShown.stdout, new RegExp(`child run: ${child.id}`));
    const children = await runCli(['runs', 'list', '--db', db, '--parent', parent.id], { env });
    assert.match(children.stdout, new RegExp(`${child.id}  deploy #`));
    assert.doesNotMatch(children.stdout, /cli-parent/);
  });
});

/** Reusable workflows on a server: `uses: name@version` names a stored workflow. */
describe('uses: a stored workflow, on the server', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness();
  });
  after(async () => h.close());

  test('a parent calls a stored child with outputs; API and CDEvents link them', async () => {
    await applyWorkflow(h, 'deploy', CHILD.split('\n').slice(3).join('\n'));
    await applyWorkflow(
      h,
      'release',
      `outputs: { where: "\${{ actions.deploy.outputs.url }}" }
stages:
  - name: deploy
    actions:
      - { name: deploy, uses: deploy@latest, with: { target: prod } }
`,
    );
    const started = await h.call('POST', '/v1/workflows/release/runs', { body: {} });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const detail = await waitForEnd(h, started.body.id);
    assert.equal(detail.run.state, 'succeeded', detail.run.reason);
    assert.deepEqual(detail.run.outputs, { where: 'https://prod.example.com/prod-42' });
    assert.deepEqual(detail.stages[0].actions, [{ name: 'deploy', matrix: false, uses: 'deploy@latest' }]);
    const attempt = detail.actions[0].attempts[0];
    assert.equal(attempt.component, 'workflow:deploy@0');
    assert.ok(attempt.childRunId, 'the attempt names its child run');

    const children = await h.call('GET', `/v1/runs?parent=${started.body.id}`);
    assert.deepEqual(
      children.body.runs.map((r: any) => r.id),
      [attempt.childRunId],
    );
    const child = await h.call('GET', `/v1/runs/${attempt.childRunId}`);
    assert.deepEqual(child.body.run.parent, { runId: started.body.id, taskRunId: attempt.id });
    assert.equal(child.body.run.workflowVersion, '1', 'the stored version it ran');
    assert.equal(child.body.run.trigger.kind, 'call');

    // CDEvents: the child's pipelinerun.queued joins the parent's chain with a PARENT link to the
    // calling task run's taskrun.started
    const parentEvents = await h.server.runtime.store.outbox.listByRun(started.body.id);
    const childEvents = await h.server.runtime.store.outbox.listByRun(attempt.childRunId);
    const taskStarted = parentEvents.find(
      (e) => e.type.startsWith('dev.cdevents.taskrun.started') && (e.payload as any).subject.id === attempt.id,
    )!;
    const queued = childEvents.find((e) => e.type.startsWith('dev.cdevents.pipelinerun.queued'))!;
    const context = (queued.payload as any).context;
    assert.equal(context.chainId, (taskStarted.payload as any).context.chainId);
    assert.deepEqual(
      context.links.find((l: any) => l.linkType === 'RELATION'),
      { linkType: 'RELATION', linkKind: 'PARENT', target: { contextId: (taskStarted.payload as any).context.id } },
    );
  });

  test('a stored workflow may not call itself; an unknown one is a load error', async () => {
    const text = `apiVersion: pilotage.dev/v1
kind: Workflow
name: loop
stages:
  - name: one
    actions:
      - { name: again, uses: loop@latest }
      - { name: gone, uses: nothing@1 }
`;
    const answer = await h.call('PUT', '/v1/workflows/loop', {
      payload: text,
      headers: { 'content-type': 'application/yaml' },
    });
    assert.equal(answer.status, 422);
    assert.deepEqual(
      answer.body.details.map((i: any) => `${i.line}:${i.column} ${i.message}`),
      [
        '7:30 a workflow may not call itself, directly or through others: loop → loop',
        '8:29 workflow nothing is not stored on this server; apply it first (pilotage workflow apply FILE)',
      ],
    );
  });

  test('a rerun from the failed action reruns the failed child the same way', async () => {
    const dir = h.dir;
    await applyWorkflow(
      h,
      'flaky-child',
      `stages:
  - name: one
    actions:
      - name: build
        run: echo built >> ${q(join(dir, 'build-count'))}
  - name: two
    actions:
      - name: check
        run: test -f ${q(join(dir, 'fixed'))}
`,
    );
    await applyWorkflow(
      h,
      'flaky-parent',
      `stages:
  - name: call
    actions:
      - { name: call, uses: flaky-child@1 }
`,
    );
    const first = await h.call('POST', '/v1/workflows/flaky-parent/runs', { body: {} });
    const failed = await waitForEnd(h, first.body.id);
    assert.equal(failed.run.state, 'failed');
    const oldChild = failed.actions[0].attempts[0].childRunId;
    await writeFile(join(dir, 'fixed'), '');

    const rerun = await h.call('POST', `/v1/runs/${first.body.id}/rerun`, { body: { from: 'failed' } });
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    const ok = await waitForEnd(h, rerun.body.id);
    assert.equal(ok.run.state, 'succeeded', ok.run.reason);
    const newChild = await waitForEnd(h, ok.actions[0].attempts[0].childRunId);
    assert.equal(newChild.run.trigger.details.rerunOf, oldChild);
    const build = newChild.actions.find((a: any) => a.name === 'build').attempts[0];
    assert.equal(build.reason, `reused from run ${oldChild}`, 'the child’s succeeded action was not run again');
    assert.equal(newChild.actions.find((a: any) => a.name === 'check').state, 'succeeded');
  });
});
