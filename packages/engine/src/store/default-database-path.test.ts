import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultDatabasePath } from './default-database-path.js';

test('defaultDatabasePath follows XDG_DATA_HOME, else ~/.local/share', () => {
  assert.equal(defaultDatabasePath({ XDG_DATA_HOME: '/data' }, '/home/a'), '/data/pilotage/pilotage.db');
  assert.equal(defaultDatabasePath({}, '/home/a'), '/home/a/.local/share/pilotage/pilotage.db');
  assert.equal(defaultDatabasePath({ XDG_DATA_HOME: '' }, '/home/a'), '/home/a/.local/share/pilotage/pilotage.db');
  assert.equal(
    defaultDatabasePath({ XDG_DATA_HOME: 'relative/dir' }, '/home/a'),
    '/home/a/.local/share/pilotage/pilotage.db',
    'relative values are ignored, as the XDG spec says',
  );
});
