import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How far `X-Pilotage-Timestamp` may be from the server's clock, ms (replays older than this fail). */
export const GENERIC_TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;

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

/**
 * Generic: `X-Pilotage-Signature: sha256=<hex>`, HMAC-SHA256 with the secret of
 * `<X-Pilotage-Timestamp>.<raw body>`, the timestamp in Unix seconds and within
 * `GENERIC_TIMESTAMP_TOLERANCE_MS` of `now` (epoch ms).
 */
export function checkGenericSignature(
  secret: string,
  body: Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
  now: number,
): SignatureProblem | undefined {
  if (signature === undefined || signature === '') return 'missing X-Pilotage-Signature';
  if (timestamp === undefined || !/^[0-9]{1,12}$/.test(timestamp)) return 'missing or malformed X-Pilotage-Timestamp';
  if (Math.abs(now - Number(timestamp) * 1000) > GENERIC_TIMESTAMP_TOLERANCE_MS) {
    return 'X-Pilotage-Timestamp is more than 5 minutes away from the server clock';
  }
  return constantTimeEqual(signature.trim().toLowerCase(), hmacSha256(secret, `${timestamp}.`, body))
    ? undefined
    : 'bad X-Pilotage-Signature';
}
