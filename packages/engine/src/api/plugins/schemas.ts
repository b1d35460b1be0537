import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { routes } from '@pilotage/api';
import { componentJsonSchema, workflowJsonSchema } from '../../plan/json-schemas.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses } from '../error-reply.js';

const { fileSchema } = routes;

/** `GET /v1/schemas/workflow|component`: the published JSON Schemas (`pilotage schema`), for editors. */
export const schemaRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app) => {
  app.get(
    '/schemas/:kind',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['schemas'],
        summary: 'The JSON Schema of workflow or component files',
        params: fileSchema.params,
        response: { ...fileSchema.response, ...errorResponses(400, 401) },
      },
    },
    async (request) => (request.params.kind === 'workflow' ? workflowJsonSchema : componentJsonSchema),
  );
};
