import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CDEVENTS_SCHEMA_DIR } from '../src/events/validate.js';
import { SHARED_CDEVENTS, sharedMissing } from './events-fixtures.js';

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.json')) out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out;
}

test('the vendored schemas are byte-identical to the official v0.5.1 copy', { skip: sharedMissing }, () => {
  const reference = join(SHARED_CDEVENTS, 'schemas');
  const ours = jsonFiles(CDEVENTS_SCHEMA_DIR);
  assert.deepEqual(ours, jsonFiles(reference), 'same file list');
  assert.equal(ours.length, 54, '45 event + 8 link + 1 custom schemas');
  for (const file of ours) {
    assert.ok(
      readFileSync(join(CDEVENTS_SCHEMA_DIR, file)).equals(readFileSync(join(reference, file))),
      `${file} differs from ${join(reference, file)}`,
    );
  }
  assert.ok(
    readFileSync(join(CDEVENTS_SCHEMA_DIR, 'LICENSE')).equals(readFileSync(join(SHARED_CDEVENTS, 'LICENSE'))),
    'LICENSE copied',
  );
});
