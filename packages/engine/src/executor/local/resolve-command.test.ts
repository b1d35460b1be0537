import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveArgv } from './resolve-command.js';
import type { ResolvedComponent } from '../../plan/types.js';

const component = (over: Partial<ResolvedComponent>): ResolvedComponent => ({
  name: 'c',
  version: '1.0.0',
  strict: false,
  env: {},
  volumes: [],
  ...over,
});

describe('resolveArgv', () => {
  const cases: Array<[string, Partial<ResolvedComponent>, { file: string; args: string[] }]> = [
    ['./ against dir', { command: ['./run.sh', 'x'], dir: '/comp' }, { file: '/comp/run.sh', args: ['x'] }],
    ['../ against dir', { command: ['../bin/tool'], dir: '/comp/sub' }, { file: '/comp/bin/tool', args: [] }],
    ['bare names for PATH', { command: ['sh', '-c', 'echo'], dir: '/comp' }, { file: 'sh', args: ['-c', 'echo'] }],
    ['absolute kept', { command: ['/bin/echo'], dir: '/comp' }, { file: '/bin/echo', args: [] }],
    ['args appended', { command: ['node', 'a.js'], args: ['--x', '1'] }, { file: 'node', args: ['a.js', '--x', '1'] }],
    ['./ without dir left to the cwd', { command: ['./run.sh'] }, { file: './run.sh', args: [] }],
  ];
  for (const [name, over, expected] of cases) {
    test(name, () => assert.deepEqual(resolveArgv(component(over)), expected));
  }
  test('no command is an ExecutorError', () => {
    assert.throws(() => resolveArgv(component({})), { code: 'EXECUTOR', message: /c@1\.0\.0 has no command/ });
    assert.throws(() => resolveArgv(component({ command: [] })), { code: 'EXECUTOR' });
  });
});
