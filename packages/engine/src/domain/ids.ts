import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

/** Random bytes drawn from the system at once (16 a ULID: 256 ids a draw). */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let next = POOL_BYTES;

/**
 * ulidx's random source (exported for its test): a uniform number in [0, 1) with 8 bits of
 * cryptographic randomness, served from a pool refilled by one `randomFillSync` per 4 KiB.
 * ulidx's default asks the system once per character (16 calls an id, 120–170 µs an id measured
 * in the engine). A character needs 5 bits, and 256 is a multiple of 32: each stays uniform.
 */
export function pooledRandom(): number {
  if (next === POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

/** A new ULID: sortable by creation time, unique across replicas. */
export function newId(): string {
  return nextUlid();
}

const TOKEN_BYTES = 32;
/** Tokens' own pool (never shared with ids): 128 tokens a draw. */
const tokenPool = Buffer.alloc(POOL_BYTES);
let nextToken = POOL_BYTES;

/**
 * A new unguessable token (256 bits, base64url): per-task-run callback tokens, API tokens. Each
 * token's bytes are used once, from a pool refilled by one `randomFillSync` per 128 tokens
 * (`randomBytes(32)` per token cost ~20 µs of every task's start).
 */
export function newToken(): string {
  if (nextToken === POOL_BYTES) {
    randomFillSync(tokenPool);
    nextToken = 0;
  }
  const token = tokenPool.toString('base64url', nextToken, nextToken + TOKEN_BYTES);
  nextToken += TOKEN_BYTES;
  return token;
}
