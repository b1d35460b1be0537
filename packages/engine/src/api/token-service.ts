import { ForbiddenError, UnauthorizedError, ValidationError } from '../domain/errors.js';
import { newId, newToken } from '../domain/ids.js';
import { scopeAllows, type Scope } from '../domain/scopes.js';
import { hashToken } from '../protocol/tokens.js';
import { TOKEN_TOUCH_INTERVAL_MS, type ApiTokenRecord, type ApiTokenStore } from '../store/types.js';

/** Prefix of every API token, so secret scanners and people can tell one from other strings. */
export const API_TOKEN_PREFIX = 'plt_';

/** Who made a request: the token's record. */
export type Principal = ApiTokenRecord;

/** Issues and checks API tokens. Only sha256 hashes are stored; a token is shown once, at creation. */
export interface TokenService {
  /** Create a token; the returned `token` is the only time its secret exists outside the caller. */
  issue(input: { name: string; scopes: readonly Scope[]; ttlMs?: number }): Promise<{
    token: string;
    record: ApiTokenRecord;
  }>;
  /**
   * The principal of a bearer token that holds `needed`. Throws UnauthorizedError for a missing,
   * unknown, expired or revoked token (one message: no hint which), ForbiddenError for a lack of scope.
   */
  authorize(token: string | undefined, needed: Scope): Promise<Principal>;
  /** `authorize` of the token whose sha256 is `tokenHash` (a UI session holds only the hash). */
  authorizeHash(tokenHash: string, needed: Scope): Promise<Principal>;
}

/** Longest token name, characters: a name says who or what a token is for, it is not a document. */
export const TOKEN_NAME_MAX_LENGTH = 200;

/** The token service over the store's `apiTokens` area. `clock` is epoch ms. */
export function createTokenService(tokens: ApiTokenStore, clock: () => number = Date.now): TokenService {
  const authorizeHash = async (tokenHash: string, needed: Scope): Promise<Principal> => {
    const record = await tokens.getByHash(tokenHash);
    const now = clock();
    if (record === undefined || record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt <= now)) {
      throw invalidToken();
    }
    if (!scopeAllows(record.scopes, needed)) {
      throw new ForbiddenError(
        `token "${record.name}" has scope ${record.scopes.join(', ')}; this request needs ${needed}`,
      );
    }
    // the record says whether the store would write: a use within the interval costs no statement
    if (record.lastUsedAt === null || record.lastUsedAt < now - TOKEN_TOUCH_INTERVAL_MS)
      await tokens.touch(record.id, now);
    return record;
  };
  return {
    async issue({ name, scopes, ttlMs }) {
      if (name.trim() === '') throw new ValidationError('a token needs a name (who or what it is for)');
      if (name.length > TOKEN_NAME_MAX_LENGTH) {
        throw new ValidationError(
          `a token name is at most ${TOKEN_NAME_MAX_LENGTH} characters, got ${name.length}; say who or what it is for in a few words`,
          { details: [{ field: 'name', message: `must NOT have more than ${TOKEN_NAME_MAX_LENGTH} characters` }] },
        );
      }
      if (scopes.length === 0) throw new ValidationError('a token needs at least one scope: read, run or admin');
      const token = API_TOKEN_PREFIX + newToken();
      const now = clock();
      const record: ApiTokenRecord = {
        id: newId(),
        name,
        scopes: [...new Set(scopes)],
        createdAt: now,
        expiresAt: ttlMs === undefined ? null : now + ttlMs,
        lastUsedAt: null,
        revokedAt: null,
      };
      await tokens.create({ ...record, tokenHash: hashToken(token) });
      return { token, record };
    },

    authorize(token, needed) {
      if (token === undefined || token === '') return Promise.reject(invalidToken());
      return authorizeHash(hashToken(token), needed);
    },
    authorizeHash,
  };
}

/** One message for a missing, unknown, expired or revoked token: no hint which. */
function invalidToken(): UnauthorizedError {
  return new UnauthorizedError(
    'a valid API token is required: send "Authorization: Bearer <token>" (create one with `pilotage token create`)',
  );
}
