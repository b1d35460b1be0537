import { CSRF_HEADER, SESSION_COOKIE } from '@pilotage/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import './route-config.js';
import type { TokenService } from './token-service.js';
import type { UiSessions } from './ui-sessions.js';

/** The bearer token of a request, if it sent one (`Authorization: Bearer <token>`). */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * An `onRequest` hook that requires an API token holding the route's `config.scope` (default
 * `admin`) and sets `request.principal`. The token is the bearer token; a request without one
 * that carries the web UI's session cookie (where `sessions` is given) is authorized as the session's token instead (writes
 * then need the CSRF header too: ui-sessions.ts). Failures throw UnauthorizedError (401) or
 * ForbiddenError (403), answered by the app's error handler.
 */
export function authHook(tokens: TokenService, sessions?: UiSessions) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const needed = request.routeOptions.config.scope ?? 'admin';
    const bearer = bearerToken(request);
    const session = request.cookies?.[SESSION_COOKIE];
    if (sessions !== undefined && bearer === undefined && session !== undefined && session !== '') {
      const csrf = request.headers[CSRF_HEADER];
      request.principal = await sessions.authorize(session, needed, {
        write: !READS.has(request.method),
        csrf: Array.isArray(csrf) ? csrf[0] : csrf,
        origin: request.headers.origin,
        host: request.headers.host,
      });
      return;
    }
    request.principal = await tokens.authorize(bearer, needed);
  };
}
