import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  WEBHOOK_PROVIDERS,
  WebhookRefusedError,
  WebhookReplayError,
  type WebhookProvider,
} from '../../service/webhook-receiver.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses } from '../error-reply.js';

/** Largest webhook body accepted, bytes (GitHub caps its payloads at 25 MB). */
export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

const DESCRIPTIONS: Readonly<Record<WebhookProvider, string>> = {
  github:
    "GitHub webhook: `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the raw body with the workflow's WEBHOOK_SECRET), event from `X-GitHub-Event`, delivery id `X-GitHub-Delivery`. `ping` answers 200 without a run. A body accepted within the replay window (24 h) under another delivery id is refused (409).",
  gitlab:
    "GitLab webhook: `X-Gitlab-Token` equal to the workflow's WEBHOOK_SECRET, event from `X-Gitlab-Event` (or the payload's `object_kind`), delivery id `X-Gitlab-Event-UUID`. A body accepted within the replay window (24 h) under another delivery id is refused (409).",
  generic:
    "Standard Webhooks 1.0: `webhook-id`, `webhook-timestamp` (Unix seconds, within 5 minutes) and `webhook-signature: v1,<base64>` (HMAC-SHA256 of `<id>.<timestamp>.<raw body>`, keyed with the base64 of a `whsec_` WEBHOOK_SECRET); the id is deduplicated. Event: `X-Pilotage-Event`, else the payload's `type` or `event`.",
};

/**
 * `POST /v1/hooks/:workflow/{github,gitlab,generic}`: public routes checked by signature (no API
 * token). Registered at the root of the app, outside the token-checked `/v1` block. The raw body
 * is kept (a scoped content-type parser) because signatures are over its bytes. Answers: 201 a
 * run started, 200 `ping` or a redelivery (no second run), 202 ignored with the reason, 401 the
 * same answer for no such workflow or trigger, no secret, or a missing, stale or bad signature
 * (the reason is logged, never the body or the signature; no run), 409 a replayed body.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => {
    done(null, body);
  });

  for (const provider of WEBHOOK_PROVIDERS) {
    app.post(
      `/v1/hooks/:workflow/${provider}`,
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        schema: {
          tags: ['webhooks'],
          summary: `Trigger a workflow from a ${provider} webhook`,
          description: DESCRIPTIONS[provider],
          security: [],
          params: Type.Object({ workflow: Type.String() }),
          response: {
            200: Type.Object({
              pong: Type.Optional(Type.Boolean()),
              duplicate: Type.Optional(Type.Boolean()),
              runId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            }),
            201: Type.Object({ runId: Type.String(), number: Type.Integer(), event: Type.String() }),
            202: Type.Object({ ignored: Type.String() }),
            ...errorResponses(400, 401, 409, 503),
          },
        },
      },
      async (request, reply) => {
        const { workflow } = request.params;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        let outcome;
        try {
          outcome = await deps.webhooks.receive({ workflow, provider, headers: request.headers, body });
        } catch (caught) {
          // who tried what and why, never the body or the signature
          if (caught instanceof WebhookRefusedError) {
            request.log.warn({ workflow, provider, reason: caught.reason }, 'webhook refused');
          } else if (caught instanceof WebhookReplayError) {
            request.log.warn({ workflow, provider, reason: caught.message }, 'webhook replay refused');
          }
          throw caught;
        }
        switch (outcome.kind) {
          case 'started':
            return reply.code(201).send({ runId: outcome.runId, number: outcome.number, event: outcome.event });
          case 'duplicate':
            return reply.code(200).send({ duplicate: true, runId: outcome.runId });
          case 'pong':
            return reply.code(200).send({ pong: true });
          case 'ignored':
            return reply.code(202).send({ ignored: outcome.reason });
        }
      },
    );
  }
};
