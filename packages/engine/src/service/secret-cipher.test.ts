import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSecretCipher } from './secret-cipher.js';

test('values round-trip, under a fresh IV each time, and never appear in the envelope', () => {
  const cipher = createSecretCipher('a passphrase');
  const one = cipher.encrypt('the-value', 'global/TOKEN');
  const two = cipher.encrypt('the-value', 'global/TOKEN');
  assert.notEqual(one, two);
  assert.match(one, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.ok(!one.includes('the-value'));
  assert.equal(cipher.decrypt(one, 'global/TOKEN'), 'the-value');
  assert.equal(
    createSecretCipher('a passphrase').decrypt(two, 'global/TOKEN'),
    'the-value',
    'same key, same derivation',
  );
  assert.equal(cipher.decrypt(cipher.encrypt('ünïcødé ✓', 'c'), 'c'), 'ünïcødé ✓');
});

test('another key, another context or a changed byte is refused', () => {
  const cipher = createSecretCipher('key-a');
  const sealed = cipher.encrypt('the-value', 'global/TOKEN');
  assert.throws(() => createSecretCipher('key-b').decrypt(sealed, 'global/TOKEN'), /another encryption key/);
  assert.throws(() => cipher.decrypt(sealed, 'global/OTHER'), /cannot decrypt secret global\/OTHER/);
  const [v, iv, tag, body = ''] = sealed.split('.');
  const flipped = `${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}`;
  assert.throws(() => cipher.decrypt([v, iv, tag, flipped].join('.'), 'global/TOKEN'), /cannot decrypt/);
  assert.throws(() => cipher.decrypt('v0.x.y.z', 'global/TOKEN'), /not in a format/);
  assert.throws(() => createSecretCipher(''), /empty/);
});
