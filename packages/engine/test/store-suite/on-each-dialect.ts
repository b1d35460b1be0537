import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findPostgresBinaries } from '../support/postgres.js';
import { postgresHarness, sqliteHarness, type StoreHarness } from './harness.js';

/**
 * Define a store suite once per dialect: `define('<title> on sqlite', …)` and
 * `define('<title> on postgres', …)`, each with its own harness. Without PostgreSQL binaries the
 * postgres half is one test that fails in CI (`CI=true`) and is skipped elsewhere, with the reason.
 * `suffix` adds words after the dialect name (`(two replicas on one database)`).
 */
export async function onEachDialect(
  title: string,
  define: (name: string, h: StoreHarness) => void,
  suffix: { readonly sqlite?: string; readonly postgres?: string } = {},
): Promise<void> {
  const named = (dialect: string, extra: string | undefined): string =>
    `${title} on ${dialect}${extra === undefined ? '' : ` ${extra}`}`;
  define(named('sqlite', suffix.sqlite), sqliteHarness());
  const binaries = await findPostgresBinaries();
  if ('missing' in binaries) {
    test(named('postgres', suffix.postgres), (t) => {
      const why = `postgres not installed: ${binaries.missing}`;
      if (process.env['CI'] === 'true') assert.fail(why);
      t.skip(why);
    });
  } else {
    define(named('postgres', suffix.postgres), postgresHarness());
  }
}
