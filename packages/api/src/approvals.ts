import { Type, type Static } from '@sinclair/typebox';

/** Approval stages: waiting gates and decisions. */

export const WaitingApproval = Type.Object({
  runId: Type.String(),
  runNumber: Type.Integer(),
  workflow: Type.String(),
  workflowVersion: Type.Union([Type.String(), Type.Null()]),
  stage: Type.String(),
  taskRunId: Type.String(),
  since: Type.Integer({ description: 'epoch ms: when it started waiting' }),
  timeoutAt: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch ms: when it fails unless decided' }),
});
export type WaitingApproval = Static<typeof WaitingApproval>;

export const Decision = Type.Object({
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
export type Decision = Static<typeof Decision>;

export const DecideBody = Type.Object(
  { comment: Type.Optional(Type.String({ maxLength: 4000, description: 'why; recorded with the decision' })) },
  { additionalProperties: false },
);

export const StageParams = Type.Object({ id: Type.String(), stage: Type.String() });
