import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Masker, secretForms } from './masker.js';

describe('Masker', () => {
  test('masks every occurrence, longest secret first, in text and nested JSON', () => {
    const m = new Masker(['hunter2', 'hunter2-extended', 'ab']);
    assert.equal(m.text('p=hunter2-extended q=hunter2'), 'p=*** q=***');
    assert.deepEqual(m.json({ a: ['x hunter2 y', 3], b: { c: 'ab' } }), { a: ['x *** y', 3], b: { c: 'ab' } });
  });

  test('an empty masker leaves values untouched', () => {
    const m = new Masker([]);
    assert.equal(m.active, false);
    assert.equal(m.text('hunter2'), 'hunter2');
  });

  test('a multi-line secret is masked whole and line by line', () => {
    const pem = '-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\r\nqO5mS8xq\n-----END KEY-----';
    const m = new Masker([pem]);
    assert.equal(m.text(pem), '***');
    assert.equal(m.text('line: MIIEowIBAAKCAQEA'), 'line: ***');
    assert.equal(m.text('qO5mS8xq'), '***');
    assert.equal(m.text(JSON.stringify({ key: pem })), '{"key":"***"}', 'its JSON-escaped form too');
  });

  test('URL-encoded forms are masked', () => {
    const secret = 'p@ss w/rd&x=1';
    const m = new Masker([secret]);
    assert.equal(m.text(`https://h/?q=${encodeURIComponent(secret)}`), 'https://h/?q=***');
    assert.equal(m.text(`a=${encodeURIComponent(secret).replace(/%20/g, '+')}`), 'a=***');
  });

  test('base64 forms are masked at any alignment, in both alphabets', () => {
    const secret = 's3cr3t-v@lue?>>';
    const m = new Masker([secret]);
    for (const prefix of ['', 'u', 'us', 'user:', 'x'.repeat(7)]) {
      for (const suffix of ['', '!', 'ab', 'tail']) {
        const b64 = Buffer.from(`${prefix}${secret}${suffix}`).toString('base64');
        assert.match(m.text(b64), /\*\*\*/, `base64 of ${prefix}<secret>${suffix}: ${b64}`);
        assert.match(m.text(Buffer.from(`${prefix}${secret}${suffix}`).toString('base64url')), /\*\*\*/);
      }
    }
    assert.equal(
      m.text(Buffer.from('unrelated text').toString('base64')),
      Buffer.from('unrelated text').toString('base64'),
    );
  });

  test('the derived forms leave out what depends on neighbouring bytes; short forms are skipped', () => {
    assert.deepEqual(secretForms('ab'), []);
    const forms = secretForms('abc');
    assert.ok(forms.includes('abc'));
    assert.ok(forms.includes('YWJj'), 'aligned base64');
    assert.ok(forms.every((form) => form.length >= 3));
  });

  test('keys are masked too, and a __proto__ key stays an own key', () => {
    const m = new Masker(['hunter2']);
    const value = JSON.parse('{"hunter2": 1, "__proto__": "x"}');
    const out = m.json(value) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['***', '__proto__']);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });
});
