import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pilotagePaths } from './xdg-paths.js';

test('XDG_CONFIG_HOME and XDG_DATA_HOME when absolute, else ~/.config and ~/.local/share', () => {
  assert.deepEqual(pilotagePaths({ XDG_CONFIG_HOME: '/cfg', XDG_DATA_HOME: '/data' }, '/home/a'), {
    configFile: '/cfg/pilotage/config.yaml',
    dataDir: '/data/pilotage',
  });
  for (const unusable of [
    {},
    { XDG_CONFIG_HOME: '', XDG_DATA_HOME: '' },
    { XDG_CONFIG_HOME: 'rel', XDG_DATA_HOME: 'rel/x' },
  ]) {
    assert.deepEqual(pilotagePaths(unusable, '/home/a'), {
      configFile: '/home/a/.config/pilotage/config.yaml',
      dataDir: '/home/a/.local/share/pilotage',
    });
  }
});
