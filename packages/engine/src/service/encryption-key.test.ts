import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveEncryptionKey } from './encryption-key.js';

test('the configured key wins and no file is written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-key-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.deepEqual(await resolveEncryptionKey({ encryptionKey: 'from-config', dataDir: dir }), {
    key: 'from-config',
    source: 'config',
    created: false,
  });
  assert.ok(!existsSync(join(dir, 'encryption.key')));
});

test('without one, a 0600 key file is created once and reused, even by two starts at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-key-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'nested');
  const [a, b] = await Promise.all([
    resolveEncryptionKey({ encryptionKey: undefined, dataDir }),
    resolveEncryptionKey({ encryptionKey: undefined, dataDir }),
  ]);
  assert.equal(a.key, b.key);
  assert.equal([a.created, b.created].filter(Boolean).length, 1);
  assert.ok(a.key.length >= 43, '32 random bytes, base64url');
  assert.equal((await stat(join(dataDir, 'encryption.key'))).mode & 0o777, 0o600);
  const again = await resolveEncryptionKey({ encryptionKey: '', dataDir });
  assert.deepEqual(again, { key: a.key, source: join(dataDir, 'encryption.key'), created: false });
  await writeFile(join(dataDir, 'encryption.key'), '\n');
  await assert.rejects(resolveEncryptionKey({ encryptionKey: undefined, dataDir }), /is empty/);
});
