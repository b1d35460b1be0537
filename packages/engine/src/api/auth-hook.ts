import type { FastifyReply, FastifyRequest } from 'fastify';
import './route-config.js';
import type { TokenService } from './token-service.js';

/** The bearer token of a request, if it sent one (`Authorization: Bearer <token>`). */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * An `onRequest` hook that requires an API token holding the route's `config.scope` (default
 * `admin`) and sets `request.principal`. Failures throw UnauthorizedError (401) or
 * ForbiddenError (403), answered by the app's error handler.
 */
export function authHook(tokens: TokenService) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const needed = request.routeOptions.config.scope ?? 'admin';
    request.principal = await tokens.authorize(bearerToken(request), needed);
  };
}
