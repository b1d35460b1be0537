import { after, before, describe } from 'node:test';
import { defineStoreSuite } from './store-suite/define-store-suite.js';
import type { StoreHarness } from './store-suite/harness.js';
import { onEachDialect } from './store-suite/on-each-dialect.js';

// One suite, run on every dialect; each ends with a leak check (teardown asserts).
function onDialect(name: string, h: StoreHarness): void {
  describe(name, () => {
    before(() => h.setup());
    after(() => h.teardown());
    defineStoreSuite(h);
  });
}

await onEachDialect('store', onDialect);
