import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runCli } from './support/cli.js';

// The package's "." export (package.json `exports`) must load from the build (npm test builds first).
test('@pilotage/engine loads and exposes the embedding API', async () => {
  const entry = (await import('@pilotage/engine')) as Record<string, unknown>;
  for (const name of [
    'createRuntime',
    'startServer',
    'buildApp',
    'loadConfig',
    'compileWorkflow',
    'openStore',
    'Engine',
  ]) {
    assert.equal(typeof entry[name], 'function', `${name} is exported`);
  }
});

// `npm install` links a workspace's bin only if its file exists at install time, which is before
// `prepare` builds dist/: a bin inside dist/ left `npx pilotage` asking the npm registry for a
// stranger's package on a fresh clone (.ci/run checks the real thing on its fresh clone).
test('the pilotage bin is a source file outside dist/, so a fresh clone links it at install', async () => {
  const manifest = JSON.parse(await readFile(join(ROOT, 'packages/engine/package.json'), 'utf8')) as {
    bin: Record<string, string>;
    files: string[];
  };
  const target = manifest.bin['pilotage'];
  assert.ok(target !== undefined && !target.startsWith('dist/'), `bin target ${target} is outside dist/`);
  assert.ok(manifest.files.includes(target.split('/')[0]!), 'the bin is published');
  const mode = (await stat(join(ROOT, 'packages/engine', target))).mode;
  assert.ok((mode & 0o111) !== 0, 'the bin is executable');
  const result = await runCli(['--version'], { script: join(ROOT, 'packages/engine', target) });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^\d+\.\d+\.\d+/);
});

test('the pilotage bin says how to build when dist/ is missing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-bin-'));
  try {
    await mkdir(join(dir, 'bin'));
    await copyFile(join(ROOT, 'packages/engine/bin/pilotage.js'), join(dir, 'bin/pilotage.js'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    const result = await runCli(['--version'], { script: join(dir, 'bin/pilotage.js') });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /npm run build/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
