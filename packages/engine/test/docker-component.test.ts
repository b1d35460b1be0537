import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { initComponent, INIT_LANGUAGES } from '../src/cli/commands/component-init.js';
import type { InitLanguage } from '../src/cli/commands/component-init.js';
import { newId } from '../src/domain/ids.js';
import { LABELS } from '../src/executor/docker/labels.js';
import { createApiHarness } from './support/api-harness.js';
import { runCli, type CliResult } from './support/cli.js';
import { ensureTestImages } from './support/images.js';
import { podmanSkipReason, removeEngineLeftovers, startPodmanService } from './support/podman.js';
import type { PodmanService } from './support/podman.js';

/** Run the CLI from its sources; resolves with its exit code and output. */
function pilotage(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { env, fromSource: true });
}

describe('pilotage component init', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-init-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const lang of Object.keys(INIT_LANGUAGES) as InitLanguage[]) {
    test(`--lang ${lang}: the scaffold passes pilotage component test on the local executor`, async () => {
      const folder = join(dir, `hello-${lang}`);
      const init = await pilotage(['component', 'init', `hello-${lang}`, '--lang', lang, '--dir', folder]);
      assert.equal(init.code, 0, init.stderr);
      const program = { sh: 'main.sh', node: 'main.mjs', python: 'main.py' }[lang];
      assert.match(init.stdout, new RegExp(`created ${folder}: Dockerfile, README.md, component.yaml, ${program}`));
      assert.ok(((await stat(join(folder, program))).mode & 0o100) !== 0, 'the program is executable');

      const tested = await pilotage([
        'component',
        'test',
        join(folder, 'component.yaml'),
        '--data',
        '{"name":"Ada"}',
        '--json',
      ]);
      assert.equal(tested.code, 0, `${tested.stdout}\n${tested.stderr}`);
      const report = JSON.parse(tested.stdout) as { ok: boolean; output: unknown; missing: string[] };
      assert.equal(report.ok, true);
      assert.deepEqual(report.output, { greeting: 'Hello, Ada!' });
      assert.deepEqual(report.missing, [], 'a strict component calling every step');
    });
  }

  test('a bad name, an unknown language or a folder in use are refused', async () => {
    await assert.rejects(
      initComponent({ name: 'Bad_Name', lang: 'sh', dir: join(dir, 'x') }),
      /invalid component name/,
    );
    await assert.rejects(
      initComponent({ name: 'ok', lang: 'cobol' as InitLanguage, dir: join(dir, 'y') }),
      /unknown language "cobol"/,
    );
    const used = join(dir, 'used');
    await initComponent({ name: 'used', lang: 'sh', dir: used });
    await writeFile(join(used, 'extra'), '');
    const again = await pilotage(['component', 'init', 'used', '--lang', 'sh', '--dir', used]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists and is not empty/);
  });
});

describe('pilotage component build on Podman', { skip: podmanSkipReason() }, () => {
  const suffix = newId().toLowerCase().slice(-8);
  let podman: PodmanService;
  let docker: Docker;
  let dir: string;
  const images: string[] = [];

  before(async () => {
    podman = await startPodmanService();
    docker = new Docker({ socketPath: podman.socketPath });
    await ensureTestImages(docker, ['base']);
    dir = await mkdtemp(join(tmpdir(), 'pilotage-build-'));
  });

  after(async () => {
    for (const image of images) {
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    }
    await podman?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('a scaffold builds, is tagged name:version, and passes the contract in its container', async () => {
    const name = `built-${suffix}`;
    const folder = join(dir, name);
    await initComponent({ name, lang: 'sh', dir: folder });
    const env = { DOCKER_HOST: podman.dockerHost };
    const built = await pilotage(['component', 'build', folder, '--json'], env);
    assert.equal(built.code, 0, built.stderr);
    const result = JSON.parse(built.stdout) as { tag: string; imageId: string; component: string };
    const tag = `localhost/${name}:0.1.0`;
    images.push(tag);
    assert.equal(result.tag, tag);
    assert.equal(result.component, `${name}@0.1.0`);
    const info = await docker.getImage(tag).inspect();
    assert.equal(info.Id.replace(/^sha256:/, ''), result.imageId.replace(/^sha256:/, ''));
    assert.equal(info.Config.Labels?.[LABELS.component], `${name}@0.1.0`);

    // the same component, run from its image by the docker executor
    const engineId = `test-build-${suffix}`;
    const tested = await pilotage(
      [
        'component',
        'test',
        join(folder, 'component.yaml'),
        '--executor',
        'docker',
        '--data',
        '{"name":"Box"}',
        '--json',
      ],
      { ...env, PILOTAGE_ENGINE_ID: engineId, PILOTAGE_DOCKER_PULL_POLICY: 'never' },
    );
    assert.equal(tested.code, 0, `${tested.stdout}\n${tested.stderr}`);
    const report = JSON.parse(tested.stdout) as { ok: boolean; output: unknown };
    assert.deepEqual(report.output, { greeting: 'Hello, Box!' });
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.engineId}=${engineId}`] } });
    assert.deepEqual(left, []);
    await removeEngineLeftovers(docker, engineId);
  });

  test('--register registers the built version on a server; without a server it fails before building', async () => {
    const name = `reg-${suffix}`;
    const folder = join(dir, name);
    await initComponent({ name, lang: 'sh', dir: folder });
    const noServer = await pilotage(['component', 'build', folder, '--register'], {
      DOCKER_HOST: podman.dockerHost,
      PILOTAGE_SERVER: '',
    });
    assert.equal(noServer.code, 2);
    assert.match(noServer.stderr, /no server given/);
    assert.doesNotMatch(noServer.stderr, /building/);

    const h = await createApiHarness();
    try {
      images.push(`localhost/${name}:0.1.0`);
      const args = ['component', 'build', folder, '--register', '--server', h.server.url, '--token', h.admin];
      const built = await pilotage([...args, '--json', '-q'], { DOCKER_HOST: podman.dockerHost });
      assert.equal(built.code, 0, built.stderr);
      const result = JSON.parse(built.stdout) as { tag: string; registered: { status: string; version: string } };
      assert.equal(result.tag, `localhost/${name}:0.1.0`);
      assert.equal(result.registered.status, 'registered');
      const stored = await h.call('GET', `/v1/components/${name}/0.1.0`);
      assert.equal(stored.status, 200, JSON.stringify(stored.body));
      assert.equal(stored.body.spec.image, `localhost/${name}:0.1.0`);
      const again = await pilotage([...args, '-q'], { DOCKER_HOST: podman.dockerHost });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`unchanged ${name}@0\\.1\\.0`));
    } finally {
      await h.close();
    }
  });

  test('--tag overrides the tag; a folder without component.yaml is a usage error', async () => {
    const folder = join(dir, 'tagged');
    await initComponent({ name: 'tagged', lang: 'sh', dir: folder });
    const tag = `localhost/pilotage-test/tagged-${suffix}:9`;
    images.push(tag);
    const built = await pilotage(['component', 'build', folder, '--tag', tag, '--quiet'], {
      DOCKER_HOST: podman.dockerHost,
    });
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, new RegExp(`^built tagged@0\\.1\\.0 as ${tag.replace(/[.]/g, '\\.')} \\(`));
    assert.equal(built.stderr, '', 'quiet');

    const empty = await pilotage(['component', 'build', dir], { DOCKER_HOST: podman.dockerHost });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /holds no component\.yaml/);
  });
});
