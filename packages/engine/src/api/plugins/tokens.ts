import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import { parseDurationMs } from '../../domain/duration.js';
import { SCOPES } from '../../domain/scopes.js';
import type { ApiTokenRecord } from '../../store/types.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses, invalidFields } from '../error-reply.js';
import { TOKEN_NAME_MAX_LENGTH } from '../token-service.js';

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
    name: Type.String({ minLength: 1, maxLength: TOKEN_NAME_MAX_LENGTH, description: 'who or what the token is for' }),
    scopes: Type.Array(ScopeSchema, { minItems: 1 }),
    ttl: Type.Optional(Type.String({ description: 'lifetime such as 30d or 12h; none: no expiry' })),
  },
  { additionalProperties: false },
);

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
          ...errorResponses(400, 401, 403),
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
      schema: {
        tags: ['tokens'],
        summary: 'List API tokens',
        response: { 200: Type.Array(TokenInfo), ...errorResponses(401) },
      },
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
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
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
    throw invalidFields([{ field: 'body.ttl', message: `must be a duration such as 30d or 12h, got "${ttl}"` }], cause);
  }
}
