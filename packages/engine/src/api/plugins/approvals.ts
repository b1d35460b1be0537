import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { routes } from '@pilotage/api';
import type { RecordedDecision } from '../../service/approval-service.js';
import type { ApiDeps } from '../api-deps.js';
import { emptyBodyAsObject } from '../empty-body.js';
import { errorResponses } from '../error-reply.js';

const { listApprovals, approveStage, rejectStage } = routes;

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
        response: { ...listApprovals.response, ...errorResponses(401, 403) },
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
          params: (verb === 'approve' ? approveStage : rejectStage).params,
          body: (verb === 'approve' ? approveStage : rejectStage).body,
          response: {
            ...(verb === 'approve' ? approveStage : rejectStage).response,
            ...errorResponses(400, 401, 403, 404, 409),
          },
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
