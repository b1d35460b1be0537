import { createHash } from 'node:crypto';

/**
 * The registry key of a callback token: its sha256, hex (64 lowercase characters). The engine
 * keeps and stores only this hash, so a leaked database or log never yields a usable token.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const CALLBACK_PATH = /(\/v1\/callbacks\/)[^/?#]+/g;

/**
 * `url` with the token of any `/v1/callbacks/<token>/…` path replaced by `[redacted]`. For log
 * serializers of servers that mount the callback routes next to others; other URLs are unchanged.
 */
export function redactCallbackUrl(url: string): string {
  return url.replace(CALLBACK_PATH, '$1[redacted]');
}
