import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import { answerCallback, CALLBACK_BODY_LIMIT_BYTES, NOT_FOUND } from './callback-answers.js';
import type { CallbackRegistry } from './registry.js';
import type { CallbackAnswer, CallbackReply } from './session.js';

export { CALLBACK_BODY_LIMIT_BYTES } from './callback-answers.js';

/** Options of `callbackRoutes`. */
export interface CallbackRoutesOptions {
  readonly registry: CallbackRegistry;
}

const replySchema = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    code: { type: 'string' },
    message: { type: 'string' },
    state: { type: 'string' },
  },
} as const;

const paramsSchema = {
  type: 'object',
  required: ['token', 'step'],
  properties: { token: { type: 'string' }, step: { type: 'string' } },
} as const;

const responseSchemas = { 200: replySchema, '4xx': replySchema, '5xx': replySchema } as const;

interface Params {
  readonly token: string;
  readonly step: string;
}

/**
 * The component callback routes (register without a prefix; the plugin is encapsulated):
 * - `POST /v1/callbacks/:token/:step` for component-start, task-start, task-status,
 *   task-result, component-stop and cdevent;
 * - `GET /v1/callbacks/:token/data`: the event data, application/json.
 * Bodies are read as text whatever their content type (shell clients send form types) and
 * parsed as JSON; empty is `{}`; at most 1 MiB. Answers `{ok:true}` or
 * `{ok:false, code, message, state?}` (200, 400, 404, 409, 413, 500). An unknown token and an
 * unknown path under /v1/callbacks both get the same 404, so nothing hints whether a run exists.
 * The URL carries the secret token: these routes never log (route log level `silent`).
 */
export const callbackRoutes: FastifyPluginAsync<CallbackRoutesOptions> = async (app, { registry }) => {
  // Components post JSON under any content type (or none): read every body as text ourselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: CALLBACK_BODY_LIMIT_BYTES }, (_req, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    const code =
      status === 413
        ? 'BODY_TOO_LARGE'
        : status === 415
          ? 'BAD_CONTENT_TYPE'
          : status < 500
            ? 'BAD_REQUEST'
            : 'INTERNAL';
    const message =
      status === 413
        ? `the body is larger than ${CALLBACK_BODY_LIMIT_BYTES} bytes`
        : status < 500
          ? error.message
          : 'internal error';
    return reply.code(status).send({ ok: false, code, message } satisfies CallbackReply);
  });

  app.post<{ Params: Params }>(
    '/v1/callbacks/:token/:step',
    {
      logLevel: 'silent',
      bodyLimit: CALLBACK_BODY_LIMIT_BYTES,
      schema: {
        tags: ['callbacks'],
        summary: 'A component reports a contract step (its per-task token in the URL is the credential)',
        security: [],
        params: paramsSchema,
        response: responseSchemas,
      },
    },
    async (request, reply) => {
      const { token, step } = request.params;
      const raw = typeof request.body === 'string' ? request.body : undefined;
      return send(reply, await answerCallback(registry, 'POST', token, step, raw));
    },
  );

  app.get<{ Params: Params }>(
    '/v1/callbacks/:token/:step',
    {
      logLevel: 'silent',
      schema: {
        tags: ['callbacks'],
        summary: 'A component reads its event data (`data`; its per-task token in the URL is the credential)',
        security: [],
        params: paramsSchema,
      },
    },
    async (request, reply) => {
      const { token, step } = request.params;
      return send(reply, await answerCallback(registry, 'GET', token, step, undefined));
    },
  );

  // Any other path or method under /v1/callbacks: the same silent 404 (its URL may hold a token).
  app.all(
    '/v1/callbacks/*',
    { logLevel: 'silent', schema: { hide: true, security: [], response: responseSchemas } },
    async (_request, reply) => send(reply, NOT_FOUND),
  );
};

function send(
  reply: FastifyReply,
  answer: CallbackAnswer | { readonly status: 200; readonly json: string },
): FastifyReply {
  if ('json' in answer) return reply.code(200).type('application/json; charset=utf-8').send(answer.json);
  return reply.code(answer.status).send(answer.body);
}
