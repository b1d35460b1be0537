import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { serverGiven } from './with-server.js';

const saved = process.env.PILOTAGE_SERVER;
afterEach(() => {
  if (saved === undefined) delete process.env.PILOTAGE_SERVER;
  else process.env.PILOTAGE_SERVER = saved;
});

test('--server means the server, an explicit --db the local store, else PILOTAGE_SERVER decides', () => {
  delete process.env.PILOTAGE_SERVER;
  assert.equal(serverGiven({}), false);
  assert.equal(serverGiven({ server: 'http://s' }), true);
  assert.equal(serverGiven({ server: 'http://s', db: '/tmp/x.db' }), true);
  process.env.PILOTAGE_SERVER = 'http://env';
  assert.equal(serverGiven({}), true);
  assert.equal(serverGiven({ db: '/tmp/x.db' }), false);
  assert.equal(serverGiven({ server: 'http://s', db: '/tmp/x.db' }), true);
});
