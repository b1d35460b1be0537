import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { componentEnv, globMatcher, INHERIT_NOTHING, LOCAL_BASE_ENV, snapshotEnv } from './component-env.js';

const engineEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/op',
  LANG: 'fr_FR.UTF-8',
  LC_ALL: 'C.UTF-8',
  LC_TIME: 'fr_FR.UTF-8',
  TZ: 'Europe/Paris',
  TMPDIR: '/tmp/op',
  USER: 'op',
  SHELL: '/bin/zsh',
  SSH_AUTH_SOCK: '/run/ssh.sock',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  AWS_REGION: 'eu-west-3',
  HTTPS_PROXY: 'http://proxy:3128',
  PILOTAGE_ENCRYPTION_KEY: 'master-key',
  PILOTAGE_TOKEN: 'plt_token',
  PILOTAGE_SECRET_DEPLOY: 'deploy-secret',
  PILOTAGE_DB: 'postgres://u:pw@db/pilotage',
  UNSET: undefined,
};
const local = { engineEnv, base: LOCAL_BASE_ENV, passEnv: [] };

describe('componentEnv', () => {
  test('the local base: PATH, HOME, LANG, every LC_*, TZ, TMPDIR, USER, and nothing else', () => {
    assert.deepEqual(componentEnv({ env: {} }, local), {
      PATH: '/usr/bin:/bin',
      HOME: '/home/op',
      LANG: 'fr_FR.UTF-8',
      LC_ALL: 'C.UTF-8',
      LC_TIME: 'fr_FR.UTF-8',
      TZ: 'Europe/Paris',
      TMPDIR: '/tmp/op',
      USER: 'op',
    });
  });

  test('the spec env is laid over what is inherited', () => {
    const env = componentEnv({ env: { PATH: '/opt/bin', CO_RUN_ID: 'R1' } }, local);
    assert.equal(env.PATH, '/opt/bin');
    assert.equal(env.CO_RUN_ID, 'R1');
  });

  test('passEnv of the setting and of the spec add names and globs', () => {
    const env = componentEnv(
      { env: {}, passEnv: ['AWS_*', 'NOT_SET'] },
      { ...local, passEnv: ['SSH_AUTH_SOCK', '*_PROXY'] },
    );
    assert.equal(env.SSH_AUTH_SOCK, '/run/ssh.sock');
    assert.equal(env.HTTPS_PROXY, 'http://proxy:3128');
    assert.equal(env.AWS_REGION, 'eu-west-3');
    assert.equal(env.AWS_SECRET_ACCESS_KEY, 'aws-secret');
    assert.equal('NOT_SET' in env, false);
    assert.equal('SHELL' in env, false);
  });

  test('PILOTAGE_* never passes, even when an allow-list says * or names it', () => {
    const env = componentEnv(
      { env: {}, passEnv: ['*', 'PILOTAGE_ENCRYPTION_KEY'] },
      { ...local, passEnv: ['PILOTAGE_*'] },
    );
    for (const name of Object.keys(env)) assert.equal(name.startsWith('PILOTAGE_'), false, name);
    assert.equal(env.SHELL, '/bin/zsh');
  });

  test('a PILOTAGE_ variable the workflow sets itself is kept (it is the workflow’s, not the engine’s)', () => {
    assert.equal(componentEnv({ env: { PILOTAGE_STAGE: 'x' } }, local).PILOTAGE_STAGE, 'x');
  });

  test('containers inherit no base', () => {
    assert.deepEqual(componentEnv({ env: { A: '1' } }, { engineEnv, base: [], passEnv: [] }), { A: '1' });
    assert.deepEqual(componentEnv({ env: { A: '1' }, passEnv: ['TZ'] }, INHERIT_NOTHING), { A: '1' });
  });
});

describe('globMatcher', () => {
  for (const [pattern, name, matches] of [
    ['AWS_*', 'AWS_REGION', true],
    ['AWS_*', 'AWS_', true],
    ['AWS_*', 'MY_AWS_REGION', false],
    ['*_PROXY', 'HTTPS_PROXY', true],
    ['A*B*C', 'AxxBxxC', true],
    ['A*B*C', 'AxxC', false],
    ['PATH', 'PATH', true],
    ['PATH', 'PATHS', false],
    ['path', 'PATH', false],
  ] as const) {
    test(`${pattern} ${matches ? 'matches' : 'does not match'} ${name}`, () => {
      assert.equal(globMatcher(pattern)(name), matches);
    });
  }
});

test('a snapshot of the engine env gives the same environment every time, computed once per passEnv', () => {
  const live: Record<string, string> = { PATH: '/bin', LC_ALL: 'C', SECRET: 's', PILOTAGE_KEY: 'k' };
  const snapshot = snapshotEnv(live);
  assert.ok(Object.isFrozen(snapshot));
  const policy = { engineEnv: snapshot, base: ['PATH', 'LC_*'], passEnv: [] };
  const first = componentEnv({ env: { CO_X: '1' } }, policy);
  live['PATH'] = '/changed';
  const second = componentEnv({ env: { CO_X: '2' } }, policy);
  assert.deepEqual(first, { PATH: '/bin', LC_ALL: 'C', CO_X: '1' });
  assert.deepEqual(second, { PATH: '/bin', LC_ALL: 'C', CO_X: '2' }, 'the snapshot, not the live env');
  second['PATH'] = 'mutated by a caller';
  assert.equal(componentEnv({ env: {} }, policy)['PATH'], '/bin', 'each result is a new object');
  assert.deepEqual(componentEnv({ env: {}, passEnv: ['SECRET', 'PILOTAGE_*'] }, policy), {
    PATH: '/bin',
    LC_ALL: 'C',
    SECRET: 's',
  });
  // a live environment (not frozen) is read at every call
  const livePolicy = { engineEnv: live, base: ['PATH'], passEnv: [] };
  assert.equal(componentEnv({ env: {} }, livePolicy)['PATH'], '/changed');
  live['PATH'] = '/again';
  assert.equal(componentEnv({ env: {} }, livePolicy)['PATH'], '/again');
});
