import { timingSafeEqual } from 'node:crypto';
import type { SessionInfo } from '@pilotage/api';
import { ForbiddenError, UnauthorizedError } from '../domain/errors.js';
import { newToken } from '../domain/ids.js';
import type { Scope } from '../domain/scopes.js';
import { hashToken } from '../protocol/tokens.js';
import type { UiSessionStore } from '../store/types.js';
import type { Principal, TokenService } from './token-service.js';

/** How long a UI session lasts (never longer than its API token), ms. */
export const UI_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** What a request made with a session cookie brings besides the cookie. */
export interface SessionRequest {
  /** true for anything but GET, HEAD and OPTIONS: it must carry the CSRF token */
  readonly write: boolean;
  /** the `x-pilotage-csrf` header */
  readonly csrf: string | undefined;
  /** the `Origin` header, when the browser sent one */
  readonly origin: string | undefined;
  /** the `Host` header */
  readonly host: string | undefined;
}

/**
 * Browser sessions of the web UI. An API token is exchanged once for a random session id (the
 * cookie; only its sha256 is stored) and a CSRF token. Each request made with the cookie is
 * authorized as the API token itself (so revoking or expiring the token ends its sessions, and
 * its scopes apply); writes must also carry the CSRF token and, when the browser sends an
 * `Origin`, come from this server's own origin.
 */
export interface UiSessions {
  /** Open a session for `token`; UnauthorizedError when the token is not valid. */
  open(token: string): Promise<{ readonly id: string; readonly info: SessionInfo }>;
  /** The principal of session `id` holding `needed`; UnauthorizedError, or ForbiddenError for scope or CSRF. */
  authorize(id: string, needed: Scope, request: SessionRequest): Promise<Principal>;
  /** What the UI shows of session `id` (its CSRF token included); UnauthorizedError when it is not valid. */
  info(id: string): Promise<SessionInfo>;
  /** End session `id` (safe to repeat). */
  close(id: string): Promise<void>;
}

export function createUiSessions(store: UiSessionStore, tokens: TokenService, clock: () => number): UiSessions {
  const expired = (): UnauthorizedError =>
    new UnauthorizedError('your session has ended (signed out, expired, or its API token was revoked): sign in again');
  const live = async (id: string) => {
    const session = await store.get(hashToken(id));
    if (session === undefined || session.expiresAt <= clock()) throw expired();
    return session;
  };
  const principalOf = async (tokenHash: string, needed: Scope): Promise<Principal> => {
    try {
      return await tokens.authorizeHash(tokenHash, needed);
    } catch (error) {
      throw error instanceof UnauthorizedError ? expired() : error;
    }
  };
  const infoOf = (principal: Principal, csrf: string, expiresAt: number): SessionInfo => ({
    name: principal.name,
    scopes: [...principal.scopes],
    csrf,
    expiresAt,
  });
  return {
    async open(token) {
      const principal = await tokens.authorize(token.trim(), 'read');
      const now = clock();
      await store.deleteExpired(now);
      const id = newToken();
      const csrf = newToken();
      const expiresAt = Math.min(now + UI_SESSION_TTL_MS, principal.expiresAt ?? Number.MAX_SAFE_INTEGER);
      await store.create({
        idHash: hashToken(id),
        tokenHash: hashToken(token.trim()),
        csrf,
        createdAt: now,
        expiresAt,
      });
      return { id, info: infoOf(principal, csrf, expiresAt) };
    },

    async authorize(id, needed, request) {
      const session = await live(id);
      if (request.write) {
        if (request.csrf === undefined || !sameText(request.csrf, session.csrf)) {
          throw new ForbiddenError(
            'a write made with the session cookie must carry the x-pilotage-csrf header that GET /v1/session gives',
          );
        }
        if (request.origin !== undefined && request.host !== undefined && !sameHost(request.origin, request.host)) {
          throw new ForbiddenError(
            `writes with the session cookie must come from this server's pages, not ${request.origin}`,
          );
        }
      }
      return principalOf(session.tokenHash, needed);
    },

    async info(id) {
      const session = await live(id);
      return infoOf(await principalOf(session.tokenHash, 'read'), session.csrf, session.expiresAt);
    },

    async close(id) {
      await store.delete(hashToken(id));
    },
  };
}

/** Constant-time equality of two texts. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when the `Origin` URL names the host (and port) of the `Host` header. */
function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
