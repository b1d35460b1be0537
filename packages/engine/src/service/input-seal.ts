import type { JsonObject } from '../domain/vocabulary.js';
import type { InputSeal } from '../engine/ports.js';
import type { SecretCipher } from './secret-cipher.js';

/**
 * The engine's InputSeal over the secret store's cipher (the same key): each run's inputs are
 * bound to its id (`run/<id>/inputs`), so a sealed value copied to another run does not open.
 */
export function cipherInputSeal(cipher: SecretCipher): InputSeal {
  const context = (runId: string): string => `run/${runId}/inputs`;
  return {
    seal: (runId, inputs) => cipher.encrypt(JSON.stringify(inputs), context(runId)),
    open: (runId, sealed) => JSON.parse(cipher.decrypt(sealed, context(runId))) as JsonObject,
  };
}
