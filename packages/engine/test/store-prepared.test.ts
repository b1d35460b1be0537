import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { markReused } from '../src/store/kysely/compiled-statement.js';
import { preparedSetting } from '../src/store/postgres/open-postgres.js';
import { preparingReused } from '../src/store/postgres/preparing-reused.js';
import { findPostgresBinaries, startPostgres } from './support/postgres.js';

// The store's reused statements (compiled once per shape) are kept prepared on each PostgreSQL
// connection; every other statement is sent unnamed, as Kysely gives it.
test('a reused statement is prepared once per connection; others are not prepared', async (t) => {
  const binaries = await findPostgresBinaries();
  if ('missing' in binaries) {
    if (process.env['CI'] === 'true') assert.fail(`postgres not installed: ${binaries.missing}`);
    return t.skip(binaries.missing);
  }
  const server = await startPostgres();
  const client = new pg.Client({ connectionString: server.url });
  t.after(async () => {
    await client.end();
    await server.stop();
  });
  await client.connect();
  preparingReused(client);

  const reused = 'select $1::int + 1 as n /* reused */';
  markReused(reused);
  for (const value of [1, 2, 3]) {
    const { rows } = await client.query(reused, [value]);
    assert.deepEqual(rows, [{ n: value + 1 }], 'answers as an unnamed statement would');
  }
  await client.query('select $1::text as once', ['x']);
  const { rows: prepared } = await client.query<{ statement: string }>('select statement from pg_prepared_statements');
  assert.deepEqual(
    prepared.map((r) => r.statement),
    [reused],
    'only the reused statement is prepared, once',
  );
});

test('?pilotage_prepare=off turns prepared statements off and is not passed to the server', () => {
  assert.deepEqual(preparedSetting('postgres://u:p@db:5432/pilotage?pilotage_prepare=off&sslmode=require'), {
    connectionString: 'postgres://u:p@db:5432/pilotage?sslmode=require',
    prepare: false,
  });
  assert.deepEqual(preparedSetting('postgres://db/pilotage'), {
    connectionString: 'postgres://db/pilotage',
    prepare: true,
  });
  assert.equal(preparedSetting('postgres://db/pilotage?pilotage_prepare=on').prepare, true);
});
