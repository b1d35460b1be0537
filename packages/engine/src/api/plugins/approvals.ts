import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RecordedDecision } from '../../service/approval-service.js';
import type { ApiDeps } from '../api-deps.js';
import { emptyBodyAsObject } from '../empty-body.js';
import { errorResponses } from '../error-reply.js';

const WaitingSchema = Type.Object({
  runId: Type.String(),
  runNumber: Type.Integer(),
  workflow: Type.String(),
  workflowVersion: Type.Union([Type.String(), Type.Null()]),
  stage: Type.String(),
  taskRunId: Type.String(),
  since: Type.Integer({ description: 'epoch ms: when it started waiting' }),
  timeoutAt: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch ms: when it fails unless decided' }),
});

const DecisionSchema = Type.Object({
  runId: Type.String(),
  stage: Type.String(),
  decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
  by: Type.String({ description: 'the API token name that decided' }),
  comment: Type.Union([Type.String(), Type.Null()]),
  taskRun: Type.Object({
    id: Type.String(),
    state: Type.String(),
    message: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    output: Type.Record(Type.String(), Type.Unknown()),
    startedAt: Type.Union([Type.Integer(), Type.Null()]),
    endedAt: Type.Union([Type.Integer(), Type.Null()]),
  }),
});

const DecideBody = Type.Object(
  { comment: Type.Optional(Type.String({ maxLength: 4000, description: 'why; recorded with the decision' })) },
  { additionalProperties: false },
);

const Params = Type.Object({ id: Type.String(), stage: Type.String() });

/**
 * Approval gates: `GET /v1/approvals` (read) lists stages waiting for a decision;
 * `POST /v1/runs/:id/stages/:stage/approve|reject` (run) decides one, recording the API token's
 * name as the approver with the comment, and answers once the decision is stored.
 */
export const approvalRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/approvals',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['approvals'],
        summary: 'Approval stages waiting for a decision',
        response: { 200: Type.Array(WaitingSchema), ...errorResponses(401, 403) },
      },
    },
    async () => deps.approvals.waiting(),
  );

  for (const verb of ['approve', 'reject'] as const) {
    app.post(
      `/runs/:id/stages/:stage/${verb}`,
      {
        config: { scope: 'run' },
        // no body at all means no comment
        preValidation: emptyBodyAsObject,
        schema: {
          tags: ['approvals'],
          summary: verb === 'approve' ? 'Approve a waiting approval stage' : 'Reject a waiting approval stage',
          params: Params,
          body: DecideBody,
          response: { 200: DecisionSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const comment = request.body?.comment;
        const recorded = await deps.approvals.decide({
          runId: request.params.id,
          stage: request.params.stage,
          approved: verb === 'approve',
          by: request.principal?.name ?? 'unknown',
          ...(comment === undefined ? {} : { comment }),
        });
        return decisionReply(recorded);
      },
    );
  }
};

function decisionReply(recorded: RecordedDecision) {
  const { taskRun } = recorded;
  return {
    ...recorded,
    taskRun: {
      id: taskRun.id,
      state: taskRun.state,
      message: taskRun.message,
      reason: taskRun.reason,
      output: taskRun.output,
      startedAt: taskRun.startedAt,
      endedAt: taskRun.endedAt,
    },
  };
}
