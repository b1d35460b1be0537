import { Type, type Static } from '@sinclair/typebox';
import { Millis, ScopeSchema } from './common.js';

/**
 * Browser sessions of the web UI: an API token exchanged once for an HttpOnly, SameSite=Strict
 * session cookie; writes made with the cookie must carry the session's CSRF token in the
 * `x-pilotage-csrf` header.
 */

/** Name of the session cookie. */
export const SESSION_COOKIE = 'pilotage_session';
/** Header that must carry the CSRF token on writes authenticated by the session cookie. */
export const CSRF_HEADER = 'x-pilotage-csrf';

export const SignInBody = Type.Object(
  { token: Type.String({ minLength: 1, description: 'an API token (`plt_…`)' }) },
  { additionalProperties: false },
);

/** The signed-in session, as the UI sees it (never the API token). */
export const SessionInfo = Type.Object({
  name: Type.String({ description: 'name of the API token the session was opened with' }),
  scopes: Type.Array(ScopeSchema),
  csrf: Type.String({ description: `send it as ${CSRF_HEADER} on every write` }),
  expiresAt: Millis,
});
export type SessionInfo = Static<typeof SessionInfo>;
