import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../domain/errors.js';
import { parseStoreUrl } from './parse-store-url.js';

test('parseStoreUrl reads every accepted form', () => {
  const cases: [string, ReturnType<typeof parseStoreUrl>][] = [
    ['/var/lib/pilotage.db', { kind: 'sqlite', path: '/var/lib/pilotage.db' }],
    ['data/p.db', { kind: 'sqlite', path: 'data/p.db' }],
    [':memory:', { kind: 'sqlite', path: ':memory:' }],
    ['sqlite:/tmp/x.db', { kind: 'sqlite', path: '/tmp/x.db' }],
    ['sqlite:rel.db', { kind: 'sqlite', path: 'rel.db' }],
    ['sqlite:///tmp/x.db', { kind: 'sqlite', path: '/tmp/x.db' }],
    ['sqlite::memory:', { kind: 'sqlite', path: ':memory:' }],
    ['postgres://u:p@db:5432/pilotage', { kind: 'postgres', url: 'postgres://u:p@db:5432/pilotage' }],
    ['postgresql://db/pilotage?sslmode=require', { kind: 'postgres', url: 'postgresql://db/pilotage?sslmode=require' }],
  ];
  for (const [url, expected] of cases) assert.deepEqual(parseStoreUrl(url), expected, url);
});

test('parseStoreUrl rejects empty and foreign URLs without echoing credentials', () => {
  assert.throws(() => parseStoreUrl(''), ValidationError);
  assert.throws(() => parseStoreUrl('sqlite:'), ValidationError);
  assert.throws(
    () => parseStoreUrl('mysql://root:secret@db/x'),
    (error: unknown) =>
      error instanceof ValidationError && !error.message.includes('secret') && error.message.includes('postgres://'),
  );
});
