import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.js';

test('flags win over env, env over defaults; the result is frozen', () => {
  const config = loadConfig({
    env: { PILOTAGE_EXECUTOR: 'docker', PILOTAGE_KILL_GRACE: '2s', PILOTAGE_SECRET_TOKEN: 's3cret' },
    home: '/home/u',
    flags: { executor: 'local', maxParallel: 3 },
  });
  assert.equal(config.executor, 'local');
  assert.equal(config.killGraceMs, 2000);
  assert.equal(config.maxParallel, 3);
  assert.equal(config.db, '/home/u/.local/share/pilotage/pilotage.db');
  assert.deepEqual(config.secrets, { TOKEN: 's3cret' });
  assert.ok(Object.isFrozen(config));
});

test('bad values name the key and its env var', () => {
  assert.throws(
    () => loadConfig({ env: { PILOTAGE_MAX_PARALLEL: 'lots' }, home: '/h' }),
    /maxParallel \(PILOTAGE_MAX_PARALLEL\)/,
  );
  assert.throws(() => loadConfig({ env: { PILOTAGE_EXECUTOR: 'vm' }, home: '/h' }), /executor/);
  assert.throws(
    () => loadConfig({ env: {}, home: '/h', flags: { nope: 1 } as never }),
    /unknown configuration key "nope"/,
  );
});
