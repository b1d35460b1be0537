import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideCommands, decideHint } from './approval-hint.js';

test('the commands name the store absolutely, quote what a shell would split, and never print a password', () => {
  const cwd = process.cwd();
  assert.deepEqual(decideCommands('01RUN', 'sign-off', { db: 'state/p.db' }), {
    approve: `pilotage approve 01RUN sign-off --db ${cwd}/state/p.db`,
    reject: `pilotage reject 01RUN sign-off --db ${cwd}/state/p.db`,
  });
  assert.equal(
    decideCommands('01RUN', 'sign-off', { db: "/tmp/my runs/it's.db" })?.approve,
    `pilotage approve 01RUN sign-off --db '/tmp/my runs/it'\\''s.db'`,
  );
  assert.equal(
    decideCommands('01RUN', 'sign-off', { db: 'sqlite:/var/lib/p.db' })?.approve,
    'pilotage approve 01RUN sign-off --db /var/lib/p.db',
  );
  const pg = decideCommands('01RUN', 'sign-off', { db: 'postgres://ci:s3cret@db.internal/pilotage' })!.approve;
  assert.doesNotMatch(pg, /s3cret/);
  // quoted: `*` would glob; the user puts the password back
  assert.match(pg, /--db 'postgres:\/\/ci:\*\*\*@db\.internal\/pilotage'$/);
  assert.equal(
    decideCommands('01RUN', 'sign-off', { server: 'https://pilotage.internal' })?.reject,
    'pilotage reject 01RUN sign-off --server https://pilotage.internal',
  );
  assert.equal(decideCommands('01RUN', 'sign-off', { db: ':memory:' }), undefined);
  assert.match(decideHint('01RUN', 'sign-off', { db: ':memory:' }), /no other process can decide/);
  assert.equal(
    decideHint('01RUN', 'sign-off', { db: '/p.db' }),
    'waiting for approval: pilotage approve 01RUN sign-off --db /p.db (or: pilotage reject 01RUN sign-off --db /p.db)',
  );
});
