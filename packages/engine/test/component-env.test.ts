import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { newId } from '../src/domain/ids.js';
import { CLI_BUILT, runCli } from './support/cli.js';
import { ensureTestImages, TEST_IMAGES } from './support/images.js';
import { podmanSkipReason, removeEngineLeftovers, startPodmanService, type PodmanService } from './support/podman.js';
import { startServe, stopServe, waitRunEnded, type ServeProcess } from './support/serve-process.js';

/**
 * Issue 9, item 1: a component sees only what it was given. The engine runs with its own
 * secrets in its environment; a component that dumps its whole environment into the (kept)
 * workspace must show none of them, on `pilotage run` and on `pilotage serve` with the local and
 * the docker executor, unless an allow-list (`passEnv`) names the one it may have.
 */
const secret = (label: string): string => `${label}-${randomBytes(8).toString('hex')}`;
const ENGINE_SECRETS = {
  PILOTAGE_ENCRYPTION_KEY: secret('master-key'),
  PILOTAGE_TOKEN: secret('plt-api-token'),
  PILOTAGE_SECRET_DEPLOY: secret('deploy-secret'),
  AWS_SECRET_ACCESS_KEY: secret('aws-secret'),
};

/** A workflow whose one action writes `env` into its workspace; `extra` lines go into the action. */
function dumpWorkflow(name: string, extra = ''): string {
  return `apiVersion: pilotage.dev/v1
kind: Workflow
name: ${name}
stages:
  - name: s
    actions:
      - name: dump
${extra}        run: env > env.txt
`;
}

/** The environment a run's component dumped: NAME → value, from `<workspaces>/<run>/env.txt`. */
async function dumpedEnv(workspaces: string, runId?: string): Promise<Record<string, string>> {
  const runs = runId === undefined ? await readdir(workspaces) : [runId];
  assert.equal(runs.length, 1, `one run workspace in ${workspaces}`);
  const text = await readFile(join(workspaces, runs[0]!, 'env.txt'), 'utf8');
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** None of the engine's secrets, by name or by value, is in the dump; `allowed` names the one that may be. */
function assertNoEngineSecret(env: Record<string, string>, allowed?: keyof typeof ENGINE_SECRETS): void {
  const text = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  for (const [name, value] of Object.entries(ENGINE_SECRETS)) {
    if (name === allowed) continue;
    assert.equal(text.includes(value), false, `${name}'s value reached the component`);
    assert.equal(name in env, false, `${name} reached the component`);
  }
  if (allowed !== undefined) assert.equal(env[allowed], ENGINE_SECRETS[allowed], `${allowed} was passed`);
}

describe('a component sees none of the engine’s environment but its base and passEnv', { concurrency: false }, () => {
  const dirs: string[] = [];
  const newDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'pilotage-env-'));
    dirs.push(dir);
    return dir;
  };
  before(() => assert.ok(existsSync(CLI_BUILT), `build first (npm run build): ${CLI_BUILT} is missing`));
  after(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** `pilotage run` of the dump workflow with the engine's secrets in its env; the dumped env. */
  async function localRun(workflow: string, args: string[] = []): Promise<Record<string, string>> {
    const dir = await newDir();
    await writeFile(join(dir, 'wf.yaml'), workflow);
    const result = await runCli(['run', join(dir, 'wf.yaml'), '--keep-workspace', '--plain', ...args], {
      env: { ...ENGINE_SECRETS, PILOTAGE_DATA_DIR: dir, PILOTAGE_DB: join(dir, 'pilotage.db') },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    return dumpedEnv(join(dir, 'workspaces'));
  }

  test('pilotage run: the local base only (PATH, HOME), no engine secret', async () => {
    const env = await localRun(dumpWorkflow('env-run'));
    assertNoEngineSecret(env);
    assert.equal(env.PATH, process.env.PATH, 'PATH is part of the base');
    assert.ok(env.CO_RUN_ID, 'the contract variables are there');
  });

  test('pilotage run --pass-env AWS_SECRET_ACCESS_KEY passes that one; PILOTAGE_* never pass', async () => {
    const env = await localRun(dumpWorkflow('env-run-pass'), [
      '--pass-env',
      'AWS_SECRET_ACCESS_KEY',
      '--pass-env',
      'PILOTAGE_*',
    ]);
    assertNoEngineSecret(env, 'AWS_SECRET_ACCESS_KEY');
  });

  test('pilotage run: an action’s passEnv glob passes the variables it matches', async () => {
    const env = await localRun(dumpWorkflow('env-run-glob', '        passEnv: ["AWS_*"]\n'));
    assertNoEngineSecret(env, 'AWS_SECRET_ACCESS_KEY');
  });

  /** Apply `workflow` on `server`, run it, wait for its end; the run id. */
  async function serverRun(server: ServeProcess, name: string, workflow: string): Promise<string> {
    const applied = await server.api('POST', '/v1/workflows', workflow);
    assert.ok(applied.ok, await applied.text());
    const started = await server.api('POST', `/v1/workflows/${name}/runs`, { data: {} });
    const body = (await started.json()) as { id: string };
    assert.equal(started.status, 201, JSON.stringify(body));
    const run = await waitRunEnded(server, body.id);
    assert.equal(run.state, 'succeeded', JSON.stringify(run));
    return body.id;
  }

  test('pilotage serve (local executor): no engine secret; a workflow-level passEnv passes its one', async () => {
    const dir = await newDir();
    const server = await startServe(dir, { ...ENGINE_SECRETS, PILOTAGE_KEEP_WORKSPACE: 'true' });
    try {
      const plain = await serverRun(server, 'env-serve', dumpWorkflow('env-serve'));
      const env = await dumpedEnv(join(dir, 'workspaces'), plain);
      assertNoEngineSecret(env);
      assert.equal(env.PATH, process.env.PATH);
      const passing = dumpWorkflow('env-serve-pass').replace('stages:', 'passEnv: [AWS_SECRET_ACCESS_KEY]\nstages:');
      const passed = await serverRun(server, 'env-serve-pass', passing);
      assertNoEngineSecret(await dumpedEnv(join(dir, 'workspaces'), passed), 'AWS_SECRET_ACCESS_KEY');
    } finally {
      await stopServe(server);
    }
  });

  test('pilotage serve --pass-env (the server setting) passes its one to every workflow', async () => {
    const dir = await newDir();
    const server = await startServe(dir, { ...ENGINE_SECRETS, PILOTAGE_KEEP_WORKSPACE: 'true' }, [
      '--pass-env',
      'AWS_SECRET_ACCESS_KEY',
    ]);
    try {
      const id = await serverRun(server, 'env-setting', dumpWorkflow('env-setting'));
      assertNoEngineSecret(await dumpedEnv(join(dir, 'workspaces'), id), 'AWS_SECRET_ACCESS_KEY');
    } finally {
      await stopServe(server);
    }
  });

  describe('pilotage serve on the docker executor (Podman)', { skip: podmanSkipReason() }, () => {
    const engineId = `test-env-${newId().toLowerCase()}`;
    let podman: PodmanService;
    let docker: Docker;
    before(async () => {
      podman = await startPodmanService();
      docker = new Docker({ socketPath: podman.socketPath });
      await ensureTestImages(docker, ['base']);
    });
    after(async () => {
      if (docker !== undefined) await removeEngineLeftovers(docker, engineId);
      await podman?.stop();
    });

    test('no engine secret in the container; passEnv passes its one', async () => {
      const dir = await newDir();
      const server = await startServe(dir, {
        ...ENGINE_SECRETS,
        PILOTAGE_KEEP_WORKSPACE: 'true',
        PILOTAGE_EXECUTOR: 'docker',
        PILOTAGE_ENGINE_ID: engineId,
        DOCKER_HOST: podman.dockerHost,
      });
      try {
        const image = `        image: ${TEST_IMAGES.base}\n`;
        const plain = await serverRun(server, 'env-docker', dumpWorkflow('env-docker', image));
        const env = await dumpedEnv(join(dir, 'workspaces'), plain);
        assertNoEngineSecret(env);
        assert.notEqual(env.PATH, undefined, 'the image sets its own PATH');
        assert.ok(env.CO_RUN_ID);
        const passing = dumpWorkflow('env-docker-pass', `${image}        passEnv: ["AWS_*"]\n`);
        const passed = await serverRun(server, 'env-docker-pass', passing);
        assertNoEngineSecret(await dumpedEnv(join(dir, 'workspaces'), passed), 'AWS_SECRET_ACCESS_KEY');
      } finally {
        await stopServe(server);
      }
    });
  });
});
