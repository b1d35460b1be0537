import assert from 'node:assert/strict';
import { test } from 'node:test';

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
