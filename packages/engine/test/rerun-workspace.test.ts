import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { newId } from '../src/domain/ids.js';
import { expireWorkspaces } from '../src/service/cleanup-job.js';
import { waitForEnd } from './api-runs-support.js';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { runCli } from './support/cli.js';
import { ensureTestImages, TEST_IMAGES } from './support/images.js';
import { podmanSkipReason, removeEngineLeftovers, startPodmanService, type PodmanService } from './support/podman.js';
import { inlineAction } from './support/recovered-run.js';

const HOUR = 3_600_000;

/**
 * `make` writes a file only it makes (a random id); `flaky` fails on its first try and leaves a
 * mark in the workspace, so it succeeds only where that mark is: in a copy of the failed run's
 * workspace. It then reports the file `make` wrote.
 */
function workflow(executor: 'local' | 'docker'): string {
  const action = (name: string, script: string): string =>
    executor === 'docker'
      ? inlineAction(TEST_IMAGES.base, name, script)
      : inlineAction('unused', name, script).replace(/\n {8}image: unused/, '');
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: keeps
executor: ${executor}
stages:
  - name: build
    actions:
${action('make', 'mkdir -p "$CO_WORKSPACE/out"\ncat /proc/sys/kernel/random/uuid > "$CO_WORKSPACE/out/app.bin"\necho "[COUT] made=$(cat "$CO_WORKSPACE/out/app.bin")"')}
  - name: test
    actions:
${action('flaky', 'if [ -f "$CO_WORKSPACE/tried" ]; then echo "[COUT] binary=$(cat "$CO_WORKSPACE/out/app.bin")"; exit 0; fi\ntouch "$CO_WORKSPACE/tried"\necho "first try fails" >&2\nexit 1')}
`;
}

async function entries(dir: string): Promise<string[] | undefined> {
  return readdir(dir).then(
    (names) => names.sort(),
    () => undefined,
  );
}

/** The rerun scenario on one executor, through the API, the cleanup step and the CLI. */
function rerunScenario(executor: 'local' | 'docker', harness: () => ApiHarness): void {
  test(`${executor}: a failed run's workspace is kept; a rerun from the failed action starts from a copy of it`, async () => {
    const h = harness();
    const applied = await h.call('PUT', '/v1/workflows/keeps', {
      payload: workflow(executor),
      headers: { 'content-type': 'application/yaml' },
    });
    assert.ok(applied.status < 300, JSON.stringify(applied.body));
    const started = await h.call('POST', '/v1/workflows/keeps/runs', { body: { data: {} } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const failed = await waitForEnd(h, started.body.id, 60_000);
    assert.equal(failed.run.state, 'failed');
    const made = failed.actions[0].attempts[0].output.made as string;
    assert.match(made, /^[0-9a-f-]{36}$/);
    assert.deepEqual(failed.run.workspace, {
      from: null,
      state: 'kept',
      expiresAt: failed.run.endedAt + 24 * HOUR,
    });
    const oldDir = join(h.config.workspaceRoot, failed.run.id);
    assert.deepEqual(await entries(oldDir), ['out', 'tried']);

    const rerun = await h.call('POST', `/v1/runs/${failed.run.id}/rerun`, { body: {} });
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    assert.equal(rerun.body.workspace.from, failed.run.id);
    const done = await waitForEnd(h, rerun.body.id, 60_000);
    assert.equal(done.run.state, 'succeeded', JSON.stringify(done.actions));
    const [make, flaky] = done.actions;
    assert.equal(make.attempts[0].reason, `reused from run ${failed.run.id}`, 'make did not run again');
    assert.deepEqual(flaky.attempts[0].output, { binary: made }, "flaky read the file the failed run's make wrote");
    assert.deepEqual(done.run.workspace, { from: failed.run.id, state: null, expiresAt: null }, 'succeeded: removed');
    assert.equal(await entries(join(h.config.workspaceRoot, rerun.body.id)), undefined);
    assert.deepEqual(await entries(oldDir), ['out', 'tried'], 'the kept workspace is left as it was');
    assert.equal(await readFile(join(oldDir, 'out', 'app.bin'), 'utf8'), `${made}\n`);

    // the cleanup step at a time past its expiry removes it, and says so on the run
    const { store, engine } = h.server.runtime;
    const log = { warn: (m: string) => assert.fail(m) };
    const releaseWorkspace = (runId: string) => engine.releaseKeptWorkspace(runId);
    assert.equal(await expireWorkspaces({ store, releaseWorkspace, now: Date.now(), limit: 10, log }), 0);
    const later = failed.run.endedAt + 25 * HOUR;
    assert.equal(await expireWorkspaces({ store, releaseWorkspace, now: later, limit: 10, log }), 1);
    assert.equal(await entries(oldDir), undefined);
    const shown = await h.call('GET', `/v1/runs/${failed.run.id}`);
    assert.equal(shown.body.run.workspace.state, 'expired');

    // a rerun that would reuse make's result is refused, and says why and how to go on
    const refused = await h.call('POST', `/v1/runs/${failed.run.id}/rerun`, { body: {} });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'WORKSPACE_EXPIRED');
    assert.match(refused.body.message, new RegExp(`workspace of run ${failed.run.id} expired at .* and was removed`));
    assert.match(refused.body.message, /--empty-workspace/);
    const runner = await h.token('run');
    const cli = await runCli(['runs', 'retry', failed.run.id, '--server', h.server.url, '--token', runner]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /expired at .*--from start.*--empty-workspace/s);

    // asked for: an empty workspace, so flaky fails on its first try again
    const cliEmpty = await runCli([
      'runs',
      'retry',
      failed.run.id,
      '--empty-workspace',
      '--json',
      '--server',
      h.server.url,
      '--token',
      runner,
    ]);
    assert.equal(cliEmpty.code, 0, cliEmpty.stderr);
    const emptyRun = JSON.parse(cliEmpty.stdout) as { id: string; workspace: { from: string | null } };
    assert.equal(emptyRun.workspace.from, null);
    const emptyDone = await waitForEnd(h, emptyRun.id, 60_000);
    assert.equal(emptyDone.run.state, 'failed');
    assert.equal(emptyDone.actions[0].attempts[0].reason, `reused from run ${failed.run.id}`);
    assert.equal(emptyDone.actions[1].attempts[0].state, 'failed');

    // from the start nothing is reused: an empty workspace is what it needs, no refusal
    const fromStart = await h.call('POST', `/v1/runs/${failed.run.id}/rerun`, { body: { from: 'start' } });
    assert.equal(fromStart.status, 201, JSON.stringify(fromStart.body));
    assert.equal(fromStart.body.workspace.from, null);
    await waitForEnd(h, fromStart.body.id, 60_000);
  });
}

describe('kept workspaces and reruns on the local executor', () => {
  let h: ApiHarness;
  before(async () => {
    h = await createApiHarness();
  });
  after(async () => h?.close());
  rerunScenario('local', () => h);
});

describe('kept workspaces and reruns on the docker executor (Podman)', { skip: podmanSkipReason() }, () => {
  const engineId = `test-engine-${newId().toLowerCase()}`;
  let podman: PodmanService;
  let docker: Docker;
  let h: ApiHarness;
  before(async () => {
    podman = await startPodmanService();
    docker = new Docker({ socketPath: podman.socketPath });
    await ensureTestImages(docker, ['base']);
    h = await createApiHarness({ config: { executor: 'docker', dockerHost: podman.dockerHost, engineId } });
  });
  after(async () => {
    await h?.close();
    if (docker !== undefined) await removeEngineLeftovers(docker, engineId);
    await podman?.stop();
  });
  rerunScenario('docker', () => h);
});
