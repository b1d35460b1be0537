import type { Scope } from '../../domain/scopes.js';

/** The credentials area: the server's API tokens (hashed) and the secrets of workflows (encrypted). */

/** A token's last use is written again only after this long (a token may serve thousands of calls), ms. */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;

/** A stored API token (its secret is never stored, only its sha256). */
export interface ApiTokenRecord {
  readonly id: string;
  /** who or what it is for; shown as the actor in audit fields (approvals, reruns) */
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

/** The server's API tokens, looked up by the sha256 of the token a request presents. */
export interface ApiTokenStore {
  create(token: Omit<ApiTokenRecord, 'lastUsedAt' | 'revokedAt'> & { readonly tokenHash: string }): Promise<void>;
  /** The token with this hash, revoked or not. */
  getByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  /** All tokens, newest first. */
  list(): Promise<ApiTokenRecord[]>;
  /** Revoke by id; false when no such live token. */
  revoke(id: string, at: number): Promise<boolean>;
  /**
   * Record a use: written when the last recorded use is older than TOKEN_TOUCH_INTERVAL_MS
   * (callers may call on every use, or skip the call when the record they read is recent).
   */
  touch(id: string, at: number): Promise<void>;
  count(): Promise<number>;
}

/** A browser session of the web UI (the session id itself is never stored, only its sha256). */
export interface UiSessionRecord {
  readonly idHash: string;
  /** sha256 of the API token the session was opened with */
  readonly tokenHash: string;
  /** the CSRF token writes must carry */
  readonly csrf: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Browser sessions, looked up by the sha256 of the session cookie. */
export interface UiSessionStore {
  create(session: UiSessionRecord): Promise<void>;
  /** The session with this id hash, expired or not. */
  get(idHash: string): Promise<UiSessionRecord | undefined>;
  /** false when no such session */
  delete(idHash: string): Promise<boolean>;
  /** Remove sessions that expired before `now`; how many. */
  deleteExpired(now: number): Promise<number>;
}

/**
 * Where a secret applies: `global` (every workflow) or `workflow:<name>` (that workflow only,
 * winning over a global secret of the same name).
 */
export type SecretScope = 'global' | `workflow:${string}`;

/** A stored secret. The value is only ever stored encrypted (service/secret-service.ts). */
export interface SecretRecord {
  readonly scope: SecretScope;
  /** `NPM_TOKEN`: read as `secrets.NPM_TOKEN` */
  readonly name: string;
  /** the encrypted value (`v1:` AES-256-GCM envelope); opaque to the store */
  readonly ciphertext: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** the API token name (or `cli`) that last set it */
  readonly updatedBy: string | null;
}

/** Secrets by scope and name; values arrive and leave encrypted. */
export interface SecretStore {
  /** Create or replace the secret `scope`/`name` (createdAt kept on replace). True when created. */
  put(record: Omit<SecretRecord, 'createdAt'>): Promise<boolean>;
  get(scope: SecretScope, name: string): Promise<SecretRecord | undefined>;
  /** Secrets of the given scopes (all when omitted), by scope then name. */
  list(scopes?: readonly SecretScope[]): Promise<SecretRecord[]>;
  /** false when no such secret */
  delete(scope: SecretScope, name: string): Promise<boolean>;
}
