import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import { MAX_SECRET_LENGTH, MIN_SECRET_LENGTH } from '../../service/secret-service.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses } from '../error-reply.js';

/** A secret as the API shows it: never its value. */
export const SecretInfoSchema = Type.Object({
  name: Type.String(),
  scope: Type.String({ description: '`global` or `workflow:<name>`' }),
  workflow: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer({ description: 'epoch ms' }),
  updatedAt: Type.Integer({ description: 'epoch ms' }),
  updatedBy: Type.Union([Type.String(), Type.Null()], { description: 'the API token name that set it' }),
});

const WorkflowName = Type.String({ minLength: 1, maxLength: 63, description: 'a workflow name: its own secret' });

const PutBody = Type.Object(
  {
    value: Type.String({
      minLength: MIN_SECRET_LENGTH,
      maxLength: MAX_SECRET_LENGTH,
      description: 'never shown again',
    }),
    workflow: Type.Optional(WorkflowName),
  },
  { additionalProperties: false },
);

/**
 * `/v1/secrets`: set (create or replace), list (names and scopes, never values) and delete
 * secrets, global or per workflow. Admin only. Runs read them as `secrets.NAME`, masked
 * everywhere (service/secret-service.ts).
 */
export const secretRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.put(
    '/secrets/:name',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['secrets'],
        summary: 'Create or replace a secret (global, or of one workflow)',
        params: Type.Object({ name: Type.String() }),
        body: PutBody,
        response: { 200: SecretInfoSchema, 201: SecretInfoSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { info, created } = await deps.secrets.set({
        name: request.params.name,
        value: request.body.value,
        ...(request.body.workflow === undefined ? {} : { workflow: request.body.workflow }),
        by: request.principal?.name ?? null,
      });
      return reply.code(created ? 201 : 200).send(info);
    },
  );

  app.get(
    '/secrets',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['secrets'],
        summary: 'List secrets (names and scopes, never values)',
        querystring: Type.Object({ workflow: Type.Optional(WorkflowName) }),
        response: { 200: Type.Array(SecretInfoSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) =>
      deps.secrets.list(request.query.workflow === undefined ? {} : { workflow: request.query.workflow }),
  );

  app.delete(
    '/secrets/:name',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['secrets'],
        summary: 'Delete a secret (global, or of the workflow given)',
        params: Type.Object({ name: Type.String() }),
        querystring: Type.Object({ workflow: Type.Optional(WorkflowName) }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const { workflow } = request.query;
      if (!(await deps.secrets.delete(name, workflow))) {
        throw new NotFoundError(`no secret ${name} ${workflow === undefined ? '(global)' : `of workflow ${workflow}`}`);
      }
      return reply.code(204).send(null);
    },
  );
};
