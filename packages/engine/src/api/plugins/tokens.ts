import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { parseDurationMs } from '../../domain/duration.js';
import { SCOPES } from '../../domain/scopes.js';
import type { ApiTokenRecord } from '../../store/types.js';
import type { ApiDeps } from '../api-deps.js';

const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));

/** A token as the API shows it (never its secret, except once in the creation answer). */
export const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  createdAt: Type.Integer({ description: 'epoch ms' }),
  expiresAt: Type.Union([Type.Integer(), Type.Null()]),
  lastUsedAt: Type.Union([Type.Integer(), Type.Null()]),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
});

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'who or what the token is for' }),
    scopes: Type.Array(ScopeSchema, { minItems: 1 }),
    ttl: Type.Optional(Type.String({ description: 'lifetime such as 30d or 12h; none: no expiry' })),
  },
  { additionalProperties: false },
);

const error = { $ref: 'Error#' } as const;

/** `/v1/tokens`: create (the answer holds the token, once), list and revoke API tokens. Admin only. */
export const tokenRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.post(
    '/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token',
        body: CreateBody,
        response: {
          201: Type.Object({ token: Type.String({ description: 'shown only now' }), info: TokenInfo }),
          400: error,
          401: error,
          403: error,
        },
      },
    },
    async (request, reply) => {
      const body: Static<typeof CreateBody> = request.body;
      const ttlMs = body.ttl === undefined ? undefined : parseTtl(body.ttl);
      const { token, record } = await deps.tokens.issue({
        name: body.name,
        scopes: body.scopes,
        ...(ttlMs === undefined ? {} : { ttlMs }),
      });
      return reply.code(201).send({ token, info: tokenInfo(record) });
    },
  );

  app.get(
    '/tokens',
    {
      config: { scope: 'admin' },
      schema: { tags: ['tokens'], summary: 'List API tokens', response: { 200: Type.Array(TokenInfo), 401: error } },
    },
    async () => (await deps.store.apiTokens.list()).map(tokenInfo),
  );

  app.delete(
    '/tokens/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token',
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), 401: error, 404: error },
      },
    },
    async (request, reply) => {
      if (!(await deps.store.apiTokens.revoke(request.params.id, deps.clock()))) {
        throw new NotFoundError(`no live token with id ${request.params.id}`);
      }
      return reply.code(204).send(null);
    },
  );
};

function tokenInfo(record: ApiTokenRecord): Static<typeof TokenInfo> {
  return { ...record, scopes: [...record.scopes] };
}

function parseTtl(ttl: string): number {
  try {
    return parseDurationMs(ttl);
  } catch (cause) {
    const message = `must be a duration such as 30d or 12h, got "${ttl}"`;
    throw new ValidationError(`body.ttl: ${message}`, { cause, details: [{ field: 'body.ttl', message }] });
  }
}
