import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses } from '../error-reply.js';

const ReplicaSchema = Type.Object({
  id: Type.String({ description: 'the replica id runs name as their owner' }),
  engineId: Type.String(),
  host: Type.String(),
  version: Type.String({ description: 'its engine version (a rollout shows two)' }),
  url: Type.Union([Type.String(), Type.Null()], { description: 'where its API answers' }),
  startedAt: Type.Integer({ description: 'epoch ms' }),
  heartbeatAt: Type.Integer({ description: 'epoch ms, by the database clock' }),
  expiresAt: Type.Integer({ description: 'epoch ms, by the database clock: its runs move on after this' }),
  alive: Type.Boolean({ description: 'its lease has not expired' }),
  runs: Type.Integer({ description: 'unended runs it holds' }),
  self: Type.Boolean({ description: 'the replica answering this request' }),
});

/**
 * `GET /v1/replicas` (read): the engine processes sharing the store (`pilotage serve` replicas
 * and `pilotage run` processes), live ones first, with their leases and how many runs each holds.
 * Replicas whose lease ended a while ago and that hold nothing are pruned by the cleanup job.
 */
export const replicaRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/replicas',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['replicas'],
        summary: 'The replicas sharing the store, their leases and the runs they hold',
        response: { 200: Type.Array(ReplicaSchema), ...errorResponses(401, 403) },
      },
    },
    async () => {
      const me = deps.engine.replicaId;
      // no pid nor process identity: read tokens see none (server-internals.ts)
      return (await deps.store.replicas.list()).map(({ pid: _pid, process: _process, ...replica }) => ({
        ...replica,
        self: replica.id === me,
      }));
    },
  );
};
