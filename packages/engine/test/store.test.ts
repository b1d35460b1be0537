import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defineStoreSuite } from './store-suite/define-store-suite.js';
import { postgresHarness, sqliteHarness, type StoreHarness } from './store-suite/harness.js';
import { findPostgresBinaries } from './support/postgres.js';

// One suite, run on every dialect; each ends with a leak check (teardown asserts).
function onDialect(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());
    defineStoreSuite(h);
  });
}

onDialect('store on sqlite', sqliteHarness());

const binaries = await findPostgresBinaries();
if ('missing' in binaries) {
  test('store on postgres', (t) => {
    const why = `postgres not installed: ${binaries.missing}`;
    if (process.env['CI'] === 'true') assert.fail(why);
    t.skip(why);
  });
} else {
  onDialect('store on postgres', postgresHarness());
}
