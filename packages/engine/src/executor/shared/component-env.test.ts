import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { componentEnv, globMatcher, INHERIT_NOTHING, LOCAL_BASE_ENV } from './component-env.js';

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
