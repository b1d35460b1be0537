import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses } from '../error-reply.js';

/** An action cache entry as the API shows it. */
export const CacheEntryInfo = Type.Object({
  key: Type.String({ description: 'sha256 of the entry’s workflow, action and key' }),
  workflow: Type.String(),
  action: Type.String({ description: 'the action (a matrix combination’s own name)' }),
  runId: Type.String({ description: 'the run that made it' }),
  taskRunId: Type.String({ description: 'the task run that made it' }),
  output: Type.Record(Type.String(), Type.Unknown(), { description: 'the outputs it restores (masked)' }),
  paths: Type.Array(Type.String(), { description: 'workspace paths it restores' }),
  sizeBytes: Type.Integer({ description: 'bytes of its saved files' }),
  createdAt: Type.Integer({ description: 'epoch ms' }),
  lastUsedAt: Type.Integer({ description: 'epoch ms' }),
});

const Filter = {
  workflow: Type.Optional(Type.String({ minLength: 1, description: 'only entries of this workflow' })),
  action: Type.Optional(Type.String({ minLength: 1, description: 'only entries of this action' })),
};

/**
 * `/v1/cache`: list the action cache's entries (read), or clear them, all or those of one
 * workflow or action, with their files (admin): what `pilotage cache list|clear --server` calls.
 */
export const cacheRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/cache',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['cache'],
        summary: 'Action cache entries, most recently used first',
        querystring: Type.Object(
          { ...Filter, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(CacheEntryInfo) }), ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const { limit, ...filter } = request.query;
      return { entries: await deps.engine.cache.list(filter, limit) };
    },
  );

  app.delete(
    '/cache',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['cache'],
        summary: 'Clear action cache entries and their files (all, or of one workflow or action)',
        description: 'Later runs of the actions run for real and fill the cache again.',
        querystring: Type.Object(Filter, { additionalProperties: false }),
        response: {
          200: Type.Object({ removed: Type.Integer({ description: 'how many entries were removed' }) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => ({ removed: await deps.engine.cache.clear(request.query) }),
  );
};
