import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { messageOf } from '../../domain/errors.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses } from '../error-reply.js';
import { authHook } from '../auth-hook.js';
import { ServerMetrics } from '../metrics.js';

const CALLBACK_PREFIX = '/v1/callbacks/';

const metricsRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const metrics = new ServerMetrics({
    store: deps.store,
    activeRuns: () => deps.engine.activeRuns(),
    subscribe: (listener) => deps.engine.subscribe(listener),
  });
  app.addHook('onClose', async () => metrics.close());

  // Global (fastify-plugin): every route registered after this plugin is timed, callbacks included.
  // Labels come from the route pattern and the step parameter, never from the URL (it holds tokens).
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions.url;
    const isCallback = route !== undefined && route.startsWith(CALLBACK_PREFIX);
    const step = isCallback ? (request.params as { step?: unknown } | undefined)?.step : undefined;
    metrics.observeRequest({
      method: request.method,
      route,
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
      ...(isCallback ? { callbackStep: typeof step === 'string' ? step : 'other' } : {}),
    });
    done();
  });

  const open = deps.config.metricsPublic;
  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      config: { scope: 'read' },
      ...(open ? {} : { onRequest: authHook(deps.tokens) }),
      schema: {
        tags: ['metrics'],
        summary: 'Prometheus metrics (text exposition format)',
        description: open
          ? 'Public (`metricsPublic: true`).'
          : 'Needs a token with the `read` scope (`metricsPublic: false`).',
        ...(open ? { security: [] } : {}),
        produces: ['text/plain'],
        response: {
          200: { description: 'Prometheus text format 0.0.4', type: 'string' },
          ...errorResponses(401),
        },
      },
    },
    async (request, reply) => {
      const text = await metrics.scrape((error) =>
        request.log.warn(`metrics: the store did not answer, store gauges are stale: ${messageOf(error)}`),
      );
      return reply.type(metrics.contentType).send(text);
    },
  );
};

/**
 * `GET /metrics` (Prometheus, see `ServerMetrics` for the list) and the hooks that time every
 * request and component callback. Public unless `config.metricsPublic` is false: then a token
 * with the `read` scope. Register it at the root before the routes it should time.
 */
export const metricsPlugin = fp(metricsRoutes, { name: 'pilotage-metrics', fastify: '5.x' });
