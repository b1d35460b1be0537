import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkGenericSignature,
  checkGithubSignature,
  checkGitlabToken,
  constantTimeEqual,
  hmacSha256,
} from './webhook-signature.js';

test("GitHub's documented test vector verifies; anything else does not", () => {
  // from GitHub's "Validating webhook deliveries" page
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');
  const good = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  assert.equal(hmacSha256(secret, body), good);
  assert.equal(checkGithubSignature(secret, body, good), undefined);
  assert.equal(checkGithubSignature(secret, body, good.toUpperCase().replace('SHA256=', 'sha256=')), undefined);
  assert.equal(checkGithubSignature(secret, Buffer.from('Hello, World?'), good), 'bad X-Hub-Signature-256');
  assert.equal(checkGithubSignature('other', body, good), 'bad X-Hub-Signature-256');
  assert.equal(checkGithubSignature(secret, body, undefined), 'missing X-Hub-Signature-256');
  assert.equal(checkGithubSignature(secret, body, 'sha256=00'), 'bad X-Hub-Signature-256');
});

test('GitLab tokens compare whole', () => {
  assert.equal(checkGitlabToken('token-value', 'token-value'), undefined);
  assert.equal(checkGitlabToken('token-value', 'token-valu'), 'bad X-Gitlab-Token');
  assert.equal(checkGitlabToken('token-value', 'token-value2'), 'bad X-Gitlab-Token');
  assert.equal(checkGitlabToken('token-value', ''), 'missing X-Gitlab-Token');
  assert.equal(constantTimeEqual('a', 'a'), true);
  assert.equal(constantTimeEqual('a', 'b'), false);
});

test('generic signatures cover the timestamp and expire after 5 minutes', () => {
  const secret = 's3cret';
  const body = Buffer.from('{"event":"deploy"}');
  const now = 1_700_000_000_000;
  const ts = String(now / 1000);
  const signature = hmacSha256(secret, `${ts}.`, body);
  assert.equal(checkGenericSignature(secret, body, signature, ts, now), undefined);
  assert.equal(checkGenericSignature(secret, body, signature, ts, now + 4 * 60_000), undefined);
  assert.match(checkGenericSignature(secret, body, signature, ts, now + 6 * 60_000) ?? '', /5 minutes/);
  assert.match(checkGenericSignature(secret, body, signature, ts, now - 6 * 60_000) ?? '', /5 minutes/);
  const other = String(now / 1000 + 1);
  assert.equal(checkGenericSignature(secret, body, signature, other, now), 'bad X-Pilotage-Signature');
  assert.equal(checkGenericSignature(secret, body, hmacSha256(secret, body), ts, now), 'bad X-Pilotage-Signature');
  assert.match(checkGenericSignature(secret, body, signature, undefined, now) ?? '', /X-Pilotage-Timestamp/);
  assert.match(checkGenericSignature(secret, body, signature, '1.5', now) ?? '', /malformed/);
  assert.equal(checkGenericSignature(secret, body, undefined, ts, now), 'missing X-Pilotage-Signature');
});
