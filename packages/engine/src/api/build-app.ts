import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { refuseForbiddenKeys } from '../domain/json-text.js';
import { callbackRoutes } from '../protocol/routes.js';
import type { ApiDeps } from './api-deps.js';
import { authHook } from './auth-hook.js';
import { clientErrorHandler, refuseLongUrls } from './client-errors.js';
import { errorHandler, errorReplySchema } from './error-reply.js';
import { cacheRoutes } from './plugins/cache.js';
import { cdeventRoutes } from './plugins/cdevents.js';
import { componentRoutes } from './plugins/components.js';
import { eventRoutes } from './plugins/events-api.js';
import { healthRoutes } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { tokenRoutes } from './plugins/tokens.js';
import { runRoutes } from './plugins/runs.js';
import { replicaRoutes } from './plugins/replicas.js';
import { runEventRoutes } from './plugins/run-events.js';
import { runHistoryRoutes } from './plugins/run-history.js';
import { schemaRoutes } from './plugins/schemas.js';
import { sessionRoutes } from './plugins/session.js';
import { secretRoutes } from './plugins/secrets.js';
import { approvalRoutes } from './plugins/approvals.js';
import { webhookRoutes } from './plugins/webhooks.js';
import { workflowRoutes } from './plugins/workflows.js';
import './route-config.js';
import { createUiSessions } from './ui-sessions.js';
import { defaultUiDir, serveWebUi } from './web-ui.js';

/** Options of `buildApp` that are not dependencies: how Fastify itself is set up. */
export interface BuildAppOptions {
  /** pino options (see logger-options.ts), or false for none (the default: tests) */
  readonly logger?: FastifyServerOptions['logger'];
  /** use this Node server (serve.ts listens before the engine exists, to know its URL) */
  readonly serverFactory?: FastifyServerOptions['serverFactory'];
  /** folder of the built web UI served at `/` (default: the installed `@pilotage/web`'s dist; false: none) */
  readonly uiDir?: string | false;
}

/** The version the OpenAPI document states. */
export const API_VERSION = '1.0.0';

/**
 * The HTTP API as a Fastify instance that never opens a port: tests call `app.inject()`, serve.ts
 * calls `listen`. Layout:
 * - the web UI's files at `/` (web-ui.ts), its pages answered with index.html;
 * - public: `/healthz`, `/readyz`, `/openapi.json`, `/docs` (the rendered reference), component
 *   callbacks under `/v1/callbacks/:token/…` (the token is the credential), webhooks (signed);
 * - the web UI's sign-in, `/v1/session` (an API token for a session cookie: plugins/session.ts);
 * - everything else under `/v1` requires an API token with the route's `config.scope`, as a
 *   bearer token or through the UI's session cookie (auth-hook.ts).
 * Errors are `{code, message, details?}` (error-reply.ts), also for what Node's HTTP parser
 * refuses and for URLs over 8 KiB (client-errors.ts). A JSON body holding a `__proto__`,
 * `constructor` or `prototype` key is 400 naming the field.
 */
export async function buildApp(deps: ApiDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    forceCloseConnections: true,
    // one access-log line per request, at its end (below), instead of Fastify's two
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler,
    // refused by the preValidation hook below instead, with the field's name
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  // Each request's one log line, once answered: method, URL (redacted), remote address, status and
  // time taken (a route's log level applies: the callback routes log nothing). Fastify's default
  // is a line at the start and one at the end: two synchronous writes per request, ~5% of a busy
  // replica's CPU (bench/README.md, "Session 6").
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  });
  app.addHook('onRequest', refuseLongUrls);
  app.addHook('preValidation', async (request) => {
    const body: unknown = request.body;
    if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) refuseForbiddenKeys(body, 'body');
  });
  const uiDir = options.uiDir === false ? undefined : (options.uiDir ?? defaultUiDir());
  const ui = uiDir === undefined ? undefined : await serveWebUi(app, uiDir);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // the UI's own routes (`/runs/01J…`) are pages of the single-page app
    const page =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !path.startsWith('/v1/') &&
      (request.headers.accept ?? '').includes('text/html');
    if (page && ui !== undefined) return ui.page(reply);
    return reply.code(404).send({
      code: 'NOT_FOUND',
      message:
        page || path === '/'
          ? 'the web UI is not built here: run `npm run build` (it builds packages/web), then restart the server'
          : `no route ${request.method} ${path}; see /openapi.json`,
    });
  });
  app.addSchema(errorReplySchema);

  await app.register(swagger, {
    // shared schemas appear in the document under their $id (`Error`), not as `def-0`
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Pilotage API',
        version: API_VERSION,
        description:
          'Runs, workflows, components, events and triggers of a Pilotage server. Send an API token as `Authorization: Bearer <token>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(metricsPlugin, { deps });
  await app.register(healthRoutes, { deps });
  await app.register(callbackRoutes, { registry: deps.callbacks });
  await app.register(webhookRoutes, { deps });
  await app.register(cookie);
  const sessions = createUiSessions(deps.store.uiSessions, deps.tokens, deps.clock);
  await app.register(sessionRoutes, { sessions });

  await app.register(
    async (v1) => {
      v1.addHook('onRequest', authHook(deps.tokens, sessions));
      await v1.register(tokenRoutes, { deps });
      await v1.register(secretRoutes, { deps });
      await v1.register(approvalRoutes, { deps });
      await v1.register(componentRoutes, { deps });
      await v1.register(workflowRoutes, { deps });
      await v1.register(cdeventRoutes, { deps });
      await v1.register(eventRoutes, { deps });
      await v1.register(runRoutes, { deps });
      await v1.register(runEventRoutes, { deps });
      await v1.register(runHistoryRoutes, { deps });
      await v1.register(replicaRoutes, { deps });
      await v1.register(cacheRoutes, { deps });
      await v1.register(schemaRoutes, { deps });
    },
    { prefix: '/v1' },
  );
  return app;
}
