import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHmac } from 'node:crypto';
import {
  checkGithubSignature,
  checkGitlabToken,
  checkStandardWebhook,
  constantTimeEqual,
  hmacSha256,
  signStandardWebhook,
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

// The published test vectors of the Standard Webhooks reference library
// (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: '1614265330',
  body: Buffer.from('{"test": 2432232314}'),
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const at = (seconds: string): number => Number(seconds) * 1000;

test('Standard Webhooks: the published vector signs and verifies', () => {
  const { secret, id, timestamp, body, signature } = VECTOR;
  assert.equal(signStandardWebhook(secret, id, timestamp, body), signature);
  assert.equal(checkStandardWebhook(secret, body, { id, timestamp, signature }, at(timestamp)), undefined);
  // several signatures (key rotation), unknown versions skipped, one valid v1 is enough
  const several = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,${signature.slice(3)} ${signature}`;
  assert.equal(checkStandardWebhook(secret, body, { id, timestamp, signature: several }, at(timestamp)), undefined);
});

test('Standard Webhooks: expired or future timestamp, wrong id, wrong signature, missing headers are refused', () => {
  const { secret, id, timestamp, body, signature } = VECTOR;
  const now = at(timestamp);
  const check = (headers: Partial<typeof VECTOR>, when = now) =>
    checkStandardWebhook(secret, body, { id, timestamp, signature, ...headers }, when);
  assert.equal(check({}, now + 5 * 60_000), undefined, 'within 5 minutes');
  assert.match(check({}, now + 5 * 60_000 + 1000) ?? '', /5 minutes/, 'expired');
  assert.match(check({}, now - 5 * 60_000 - 1000) ?? '', /5 minutes/, 'from the future');
  assert.equal(check({ id: 'msg_other' }), 'bad webhook-signature', 'the id is signed');
  assert.equal(check({ timestamp: String(Number(timestamp) + 1) }), 'bad webhook-signature', 'the timestamp is signed');
  assert.equal(check({ signature: 'v1,dawfeoifkpqwoekfpqoekf' }), 'bad webhook-signature');
  assert.equal(check({ signature: signature.slice(0, 8) }), 'bad webhook-signature', 'a partial signature');
  assert.equal(check({ signature: 'v1,' }), 'bad webhook-signature');
  assert.equal(check({ signature: `v2,${signature.slice(3)}` }), 'bad webhook-signature', 'only v1 is HMAC-SHA256');
  assert.equal(
    checkStandardWebhook('whsec_' + Buffer.from('another key of 24 bytes!').toString('base64'), body, VECTOR, now),
    'bad webhook-signature',
  );
  assert.equal(checkStandardWebhook(secret, Buffer.from('{"test": 2432232315}'), VECTOR, now), 'bad webhook-signature');
  assert.equal(check({ id: undefined }), 'missing webhook-id');
  assert.match(check({ timestamp: 'hello' }) ?? '', /malformed webhook-timestamp/);
  assert.equal(check({ signature: undefined }), 'missing webhook-signature');
});

test('Standard Webhooks: a secret without whsec_ is used as its bytes', () => {
  const signed = signStandardWebhook('plain-secret', 'id1', '100', 'body');
  assert.equal(signed, `v1,${createHmac('sha256', 'plain-secret').update('id1.100.body').digest('base64')}`);
});
