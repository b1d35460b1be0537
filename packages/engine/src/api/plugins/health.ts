import type { FastifyPluginAsync } from 'fastify';
import { messageOf } from '../../domain/errors.js';
import type { ApiDeps } from '../api-deps.js';

const reply = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' }, reason: { type: 'string' } },
} as const;

/**
 * `GET /healthz`: the process answers (liveness). `GET /readyz`: it takes work: not shutting
 * down, holding its replica lease (once it had one: a replica that lost it refuses new runs until
 * its next heartbeat registers it again) and the store answers (readiness); 503 with the reason
 * otherwise. Both public.
 */
export const healthRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    { logLevel: 'warn', schema: { tags: ['health'], security: [], response: { 200: reply } } },
    async () => ({ ok: true }),
  );
  app.get(
    '/readyz',
    { logLevel: 'warn', schema: { tags: ['health'], security: [], response: { 200: reply, 503: reply } } },
    async (_request, res) => {
      if (!deps.lifecycle.accepting) return res.code(503).send({ ok: false, reason: 'shutting down' });
      if (deps.engine.withoutLease) {
        return res.code(503).send({ ok: false, reason: 'this replica holds no lease on the store now' });
      }
      try {
        await deps.store.runs.list({ limit: 1 });
      } catch (error) {
        return res.code(503).send({ ok: false, reason: `store unavailable: ${messageOf(error)}` });
      }
      return { ok: true };
    },
  );
};
