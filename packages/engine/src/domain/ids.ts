import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

/** Random bytes drawn from the system at once: 256 ids (16 bytes a ULID) or 128 tokens a draw. */
const POOL_BYTES = 4096;

/**
 * Cryptographically random bytes served from a buffer refilled by one `randomFillSync` per
 * 4 KiB, each byte served once. Asking the system per value cost more than the value's use:
 * ulidx's default asks once per character (120–170 µs an id, measured in the engine), and
 * `randomBytes(32)` ~20 µs of every task's start.
 */
class RandomPool {
  readonly bytes = Buffer.alloc(POOL_BYTES);
  #next = POOL_BYTES;

  /** Where `count` fresh bytes start in `bytes` (`count` divides POOL_BYTES). */
  take(count: number): number {
    if (this.#next === POOL_BYTES) {
      randomFillSync(this.bytes);
      this.#next = 0;
    }
    const at = this.#next;
    this.#next += count;
    return at;
  }
}

const idBytes = new RandomPool();
/** Tokens' own pool, never shared with ids. */
const tokenBytes = new RandomPool();
const TOKEN_BYTES = 32;

/**
 * ulidx's random source (exported for its test): a uniform number in [0, 1) with 8 bits of
 * cryptographic randomness. A character needs 5 bits, and 256 is a multiple of 32: each stays
 * uniform.
 */
export function pooledRandom(): number {
  return idBytes.bytes[idBytes.take(1)]! / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

/** A new ULID: sortable by creation time, unique across replicas. */
export function newId(): string {
  return nextUlid();
}

/** A new unguessable token (256 bits, base64url): per-task-run callback tokens, API tokens. */
export function newToken(): string {
  const at = tokenBytes.take(TOKEN_BYTES);
  return tokenBytes.bytes.toString('base64url', at, at + TOKEN_BYTES);
}
