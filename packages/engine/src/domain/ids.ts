import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

const nextUlid = monotonicFactory();

/** A new ULID: sortable by creation time, unique across replicas. */
export function newId(): string {
  return nextUlid();
}

/** A new unguessable token (256 bits, base64url): per-task-run callback tokens, API tokens. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}
