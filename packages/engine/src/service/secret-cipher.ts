import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ConfigError } from '../domain/errors.js';

/** Encrypts and decrypts secret values at rest. */
export interface SecretCipher {
  /**
   * Encrypt `plaintext` bound to `context` (the secret's scope and name: a ciphertext moved to
   * another row does not decrypt). Returns `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
   */
  encrypt(plaintext: string, context: string): string;
  /** Decrypt what `encrypt` gave for the same `context`; throws ConfigError if the key or context differ. */
  decrypt(envelope: string, context: string): string;
}

const VERSION = 'v1';
/** fixed salt and info: the key is derived the same way on every replica from the same config key */
const SALT = 'pilotage/secret-store';
const INFO = 'aes-256-gcm/v1';

/**
 * AES-256-GCM with a 32-byte key derived by HKDF-SHA256 from `key` (any non-empty string:
 * `PILOTAGE_ENCRYPTION_KEY` or the generated key file). A random 96-bit IV per value; the
 * 128-bit tag authenticates the value and its context.
 */
export function createSecretCipher(key: string): SecretCipher {
  if (key.length === 0) throw new ConfigError('the encryption key is empty; set PILOTAGE_ENCRYPTION_KEY');
  const derived = Buffer.from(hkdfSync('sha256', key, SALT, INFO, 32));
  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', derived, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString('base64url'), tag.toString('base64url'), body.toString('base64url')].join('.');
    },
    decrypt(envelope, context) {
      const [version, iv, tag, body, extra] = envelope.split('.');
      if (version !== VERSION || iv === undefined || tag === undefined || body === undefined || extra !== undefined) {
        throw new ConfigError(`secret ${context} is not in a format this engine reads (expected ${VERSION})`);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', derived, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new ConfigError(
          `cannot decrypt secret ${context}: it was stored with another encryption key (PILOTAGE_ENCRYPTION_KEY, or <data folder>/encryption.key); every replica needs the same key`,
        );
      }
    },
  };
}
