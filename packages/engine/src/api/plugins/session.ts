import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { routes, SESSION_COOKIE } from '@pilotage/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../../domain/errors.js';
import { errorResponses } from '../error-reply.js';
import type { UiSessions } from '../ui-sessions.js';

const { getSession, signIn, signOut } = routes;

/** Where the session cookie is sent: the API only (the UI's pages and assets need no credential). */
const COOKIE_PATH = '/v1';

/**
 * `/v1/session`: the web UI's sign-in. `POST` exchanges an API token (in the body, never in a
 * URL) for an HttpOnly, SameSite=Strict session cookie and answers the session with its CSRF
 * token; `GET` answers the current session (the UI calls it on load); `DELETE` signs out.
 * Registered outside the bearer-token hook: these routes read the cookie themselves.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ sessions: UiSessions }> = async (app, { sessions }) => {
  app.post(
    signIn.path,
    {
      schema: {
        tags: ['session'],
        summary: 'Sign in to the web UI: exchange an API token for a session cookie',
        security: [],
        body: signIn.body,
        response: { ...signIn.response, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const { id, info } = await sessions.open(request.body.token);
      setCookie(request, reply, id, Math.max(1, Math.floor((info.expiresAt - Date.now()) / 1000)));
      return reply.code(201).send(info);
    },
  );

  app.get(
    getSession.path,
    {
      schema: {
        tags: ['session'],
        summary: 'The signed-in session of the web UI, with the CSRF token its writes carry',
        description: 'Answers 204 when the browser is not signed in (no cookie, or a session that ended).',
        security: [],
        response: getSession.response,
      },
    },
    async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id === undefined || id === '') return reply.code(204).send(null);
      try {
        return await sessions.info(id);
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        reply.clearCookie(SESSION_COOKIE, { path: COOKIE_PATH });
        return reply.code(204).send(null);
      }
    },
  );

  app.delete(
    signOut.path,
    {
      schema: {
        tags: ['session'],
        summary: 'Sign out of the web UI (ends the session, clears the cookie)',
        security: [],
        response: { 204: { type: 'null', description: 'signed out' } },
      },
    },
    async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id !== undefined && id !== '') await sessions.close(id);
      reply.clearCookie(SESSION_COOKIE, { path: COOKIE_PATH });
      return reply.code(204).send(null);
    },
  );
};

function setCookie(request: FastifyRequest, reply: FastifyReply, id: string, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, id, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    maxAge: maxAgeSeconds,
  });
}
