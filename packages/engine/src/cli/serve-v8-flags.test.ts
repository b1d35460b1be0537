import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namesV8Pool, withNodeFlags } from './serve-v8-flags.js';

test('the pool counts as named by a flag on Node’s command line or in NODE_OPTIONS, in either spelling', () => {
  assert.equal(namesV8Pool([], undefined), false);
  assert.equal(namesV8Pool(['--inspect'], '--max-old-space-size=512'), false);
  assert.equal(namesV8Pool(['--v8-pool-size=2'], undefined), true);
  assert.equal(namesV8Pool(['--v8-pool-size', '2'], undefined), true);
  assert.equal(namesV8Pool([], '--enable-source-maps  --v8-pool-size=8'), true);
  assert.equal(namesV8Pool([], '--v8-pool-sizes=8'), false);
});

test('the command line run again keeps Node’s flags, then the new ones, then the script and its arguments', () => {
  assert.deepEqual(
    withNodeFlags(['/usr/bin/node', '/p/main.js', 'serve', '--port', '0'], ['--inspect=0'], ['--a', '--b=1']),
    ['/usr/bin/node', '--inspect=0', '--a', '--b=1', '/p/main.js', 'serve', '--port', '0'],
  );
});
