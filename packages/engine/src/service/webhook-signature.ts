import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks: how far `webhook-timestamp` may be from the server's clock, either way, ms.
 * A captured request replayed later fails; within it, `webhook-id` is deduplicated.
 */
export const STANDARD_WEBHOOKS_TOLERANCE_MS = 5 * 60 * 1000;

/** Why a request's signature was refused; `undefined` from a check means it is good. */
export type SignatureProblem = string;

/** `sha256=<hex>` of HMAC-SHA256 over `parts` (concatenated) with `secret`. */
export function hmacSha256(secret: string, ...parts: (string | Buffer)[]): string {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return `sha256=${hmac.digest('hex')}`;
}

/** Compare two strings in time independent of where they differ (and of their lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body with the secret. */
export function checkGithubSignature(
  secret: string,
  body: Buffer,
  header: string | undefined,
): SignatureProblem | undefined {
  if (header === undefined || header === '') return 'missing X-Hub-Signature-256';
  return constantTimeEqual(header.trim().toLowerCase(), hmacSha256(secret, body))
    ? undefined
    : 'bad X-Hub-Signature-256';
}

/** GitLab: `X-Gitlab-Token` equal to the secret. */
export function checkGitlabToken(secret: string, header: string | undefined): SignatureProblem | undefined {
  if (header === undefined || header === '') return 'missing X-Gitlab-Token';
  return constantTimeEqual(header, secret) ? undefined : 'bad X-Gitlab-Token';
}

/** The Standard Webhooks headers of one request (names lowercase). */
export interface StandardWebhookHeaders {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
}

/**
 * The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`, as the specification
 * serialises secrets; a secret without the prefix is used as its UTF-8 bytes.
 */
export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/**
 * `v1,<base64>`: the Standard Webhooks signature (v1: HMAC-SHA256) of `<id>.<timestamp>.<body>`,
 * `timestamp` in Unix seconds.
 */
export function signStandardWebhook(secret: string, id: string, timestamp: string, body: Buffer | string): string {
  const hmac = createHmac('sha256', standardWebhooksKey(secret));
  hmac.update(`${id}.${timestamp}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

/**
 * Standard Webhooks 1.0 (https://www.standardwebhooks.com), symmetric signatures: `webhook-id`,
 * `webhook-timestamp` (Unix seconds, within STANDARD_WEBHOOKS_TOLERANCE_MS of `now`, epoch ms)
 * and `webhook-signature`, a space-separated list of `<version>,<base64>` of which one `v1`
 * entry must be `signStandardWebhook` of this id, timestamp and body (other versions are
 * skipped: key rotation sends several).
 */
export function checkStandardWebhook(
  secret: string,
  body: Buffer,
  headers: StandardWebhookHeaders,
  now: number,
): SignatureProblem | undefined {
  const { id, timestamp, signature } = headers;
  if (id === undefined || id === '') return 'missing webhook-id';
  if (timestamp === undefined || !/^[0-9]{1,12}$/.test(timestamp)) return 'missing or malformed webhook-timestamp';
  if (signature === undefined || signature.trim() === '') return 'missing webhook-signature';
  if (Math.abs(now - Number(timestamp) * 1000) > STANDARD_WEBHOOKS_TOLERANCE_MS) {
    return 'webhook-timestamp is more than 5 minutes away from the server clock';
  }
  const expected = signStandardWebhook(secret, id, timestamp, body);
  const offered = signature.split(' ').filter((entry) => entry.startsWith('v1,'));
  // every entry is compared, so the time taken does not tell which one matched
  const matched = offered.map((entry) => constantTimeEqual(entry, expected)).includes(true);
  return matched ? undefined : 'bad webhook-signature';
}
