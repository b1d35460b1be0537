import { Type } from '@sinclair/typebox';
import { Decision, DecideBody, StageParams, WaitingApproval } from './approvals.js';
import {
  ComponentDetail,
  ComponentInfo,
  ComponentNameParams,
  ComponentUsage,
  ComponentVersionParams,
  ComponentVersions,
  DeprecateBody,
  ListComponentsQuery,
} from './components.js';
import { DeliveryPage, ListDeliveriesQuery, RedeliverBody, RedeliverReply, RunCdevents } from './deliveries.js';
import { route } from './route.js';
import { LogStreamEvents, RunsStreamEvents, RunStreamEvents } from './run-stream.js';
import {
  ListRunsQuery,
  LogPage,
  LogsQuery,
  RerunBody,
  RunDetail,
  RunInfo,
  RunPage,
  RunDetailQuery,
  RunParams,
  StartRunBody,
  StatusesQuery,
  StatusPage,
  TaskParams,
  TransitionPage,
  TransitionsQuery,
} from './runs.js';
import { SessionInfo, SignInBody } from './session.js';
import {
  ApplyReply,
  CheckReply,
  DiffQuery,
  DiffReply,
  EnabledReply,
  SourceBody,
  WorkflowDetail,
  WorkflowInfo,
  WorkflowNameParams,
  WorkflowVersionDetail,
  WorkflowVersionParams,
} from './workflows.js';

/**
 * The routes of the API that the CLI and the web UI call, with their schemas. The server's
 * plugins register exactly these schemas (a test checks it), so the OpenAPI document, the
 * server's validation and the clients' types cannot drift apart.
 */
export const routes = {
  // runs
  startRun: route({
    method: 'POST',
    path: '/v1/workflows/:name/runs',
    scope: 'run',
    params: Type.Object({ name: Type.String({ minLength: 1 }) }),
    body: StartRunBody,
    response: { 201: RunInfo },
  }),
  listRuns: route({
    method: 'GET',
    path: '/v1/runs',
    scope: 'read',
    querystring: ListRunsQuery,
    response: { 200: RunPage },
  }),
  getRun: route({
    method: 'GET',
    path: '/v1/runs/:id',
    scope: 'read',
    params: RunParams,
    querystring: RunDetailQuery,
    response: { 200: RunDetail },
  }),
  taskStatuses: route({
    method: 'GET',
    path: '/v1/runs/:id/tasks/:taskRunId/statuses',
    scope: 'read',
    params: TaskParams,
    querystring: StatusesQuery,
    response: { 200: StatusPage },
  }),
  runTransitions: route({
    method: 'GET',
    path: '/v1/runs/:id/transitions',
    scope: 'read',
    params: RunParams,
    querystring: TransitionsQuery,
    response: { 200: TransitionPage },
  }),
  taskLogs: route({
    method: 'GET',
    path: '/v1/runs/:id/tasks/:taskRunId/logs',
    scope: 'read',
    params: TaskParams,
    querystring: LogsQuery,
    response: { 200: LogPage },
  }),
  cancelRun: route({
    method: 'POST',
    path: '/v1/runs/:id/cancel',
    scope: 'run',
    params: RunParams,
    response: { 202: RunInfo },
  }),
  rerun: route({
    method: 'POST',
    path: '/v1/runs/:id/rerun',
    scope: 'run',
    params: RunParams,
    body: RerunBody,
    response: { 201: RunInfo },
  }),
  runsEvents: route({
    method: 'GET',
    path: '/v1/runs/events',
    scope: 'read',
    response: {},
    events: RunsStreamEvents,
  }),
  runEvents: route({
    method: 'GET',
    path: '/v1/runs/:id/events',
    scope: 'read',
    params: RunParams,
    response: {},
    events: RunStreamEvents,
  }),
  taskLogStream: route({
    method: 'GET',
    path: '/v1/runs/:id/tasks/:taskRunId/logs/stream',
    scope: 'read',
    params: TaskParams,
    querystring: Type.Object(
      { after: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'send lines with seq > after' })) },
      { additionalProperties: false },
    ),
    response: {},
    events: LogStreamEvents,
  }),
  runCdevents: route({
    method: 'GET',
    path: '/v1/runs/:id/cdevents',
    scope: 'read',
    params: Type.Object({ id: Type.String() }),
    response: { 200: RunCdevents },
  }),

  // approvals
  listApprovals: route({
    method: 'GET',
    path: '/v1/approvals',
    scope: 'read',
    response: { 200: Type.Array(WaitingApproval) },
  }),
  approveStage: route({
    method: 'POST',
    path: '/v1/runs/:id/stages/:stage/approve',
    scope: 'run',
    params: StageParams,
    body: DecideBody,
    response: { 200: Decision },
  }),
  rejectStage: route({
    method: 'POST',
    path: '/v1/runs/:id/stages/:stage/reject',
    scope: 'run',
    params: StageParams,
    body: DecideBody,
    response: { 200: Decision },
  }),

  // workflows
  applyWorkflow: route({
    method: 'POST',
    path: '/v1/workflows',
    scope: 'admin',
    body: SourceBody,
    response: { 200: ApplyReply, 201: ApplyReply },
  }),
  putWorkflow: route({
    method: 'PUT',
    path: '/v1/workflows/:name',
    scope: 'admin',
    params: WorkflowNameParams,
    body: SourceBody,
    response: { 200: ApplyReply, 201: ApplyReply },
  }),
  checkWorkflow: route({
    method: 'POST',
    path: '/v1/workflows/check',
    scope: 'read',
    body: SourceBody,
    response: { 200: CheckReply },
  }),
  listWorkflows: route({
    method: 'GET',
    path: '/v1/workflows',
    scope: 'read',
    response: { 200: Type.Array(WorkflowInfo) },
  }),
  getWorkflow: route({
    method: 'GET',
    path: '/v1/workflows/:name',
    scope: 'read',
    params: WorkflowNameParams,
    response: { 200: WorkflowDetail },
  }),
  getWorkflowVersion: route({
    method: 'GET',
    path: '/v1/workflows/:name/versions/:version',
    scope: 'read',
    params: WorkflowVersionParams,
    response: { 200: WorkflowVersionDetail },
  }),
  workflowDiff: route({
    method: 'GET',
    path: '/v1/workflows/:name/diff',
    scope: 'read',
    params: WorkflowNameParams,
    querystring: DiffQuery,
    response: { 200: DiffReply },
  }),
  enableWorkflow: route({
    method: 'POST',
    path: '/v1/workflows/:name/enable',
    scope: 'admin',
    params: WorkflowNameParams,
    response: { 200: EnabledReply },
  }),
  disableWorkflow: route({
    method: 'POST',
    path: '/v1/workflows/:name/disable',
    scope: 'admin',
    params: WorkflowNameParams,
    response: { 200: EnabledReply },
  }),

  // components
  registerComponent: route({
    method: 'POST',
    path: '/v1/components',
    scope: 'admin',
    body: SourceBody,
    response: { 201: ComponentDetail },
  }),
  checkComponent: route({
    method: 'POST',
    path: '/v1/components/check',
    scope: 'read',
    body: SourceBody,
    response: { 200: CheckReply },
  }),
  listComponents: route({
    method: 'GET',
    path: '/v1/components',
    scope: 'read',
    querystring: ListComponentsQuery,
    response: { 200: Type.Array(ComponentInfo) },
  }),
  componentVersions: route({
    method: 'GET',
    path: '/v1/components/:name',
    scope: 'read',
    params: ComponentNameParams,
    response: { 200: ComponentVersions },
  }),
  componentUsage: route({
    method: 'GET',
    path: '/v1/components/:name/usage',
    scope: 'read',
    params: ComponentNameParams,
    response: { 200: ComponentUsage },
  }),
  getComponent: route({
    method: 'GET',
    path: '/v1/components/:name/:version',
    scope: 'read',
    params: ComponentVersionParams,
    response: { 200: ComponentDetail },
  }),
  deprecateComponent: route({
    method: 'POST',
    path: '/v1/components/:name/:version/deprecate',
    scope: 'admin',
    params: ComponentVersionParams,
    body: DeprecateBody,
    response: { 200: ComponentInfo },
  }),

  // CDEvents deliveries
  listDeliveries: route({
    method: 'GET',
    path: '/v1/events',
    scope: 'read',
    querystring: ListDeliveriesQuery,
    response: { 200: DeliveryPage },
  }),
  redeliver: route({
    method: 'POST',
    path: '/v1/events/redeliver',
    scope: 'admin',
    body: RedeliverBody,
    response: { 200: RedeliverReply },
  }),

  // browser sessions of the web UI
  getSession: route({
    method: 'GET',
    path: '/v1/session',
    scope: 'public',
    response: { 200: SessionInfo, 204: Type.Null({ description: 'not signed in' }) },
  }),
  signIn: route({
    method: 'POST',
    path: '/v1/session',
    scope: 'public',
    body: SignInBody,
    response: { 201: SessionInfo },
  }),
  signOut: route({ method: 'DELETE', path: '/v1/session', scope: 'public', response: { 204: Type.Null() } }),

  // the published JSON Schemas of the file formats
  fileSchema: route({
    method: 'GET',
    path: '/v1/schemas/:kind',
    scope: 'read',
    params: Type.Object({ kind: Type.Union([Type.Literal('workflow'), Type.Literal('component')]) }),
    response: { 200: Type.Object({}, { additionalProperties: true }) },
  }),
} as const;

export type Routes = typeof routes;
export type RouteName = keyof Routes;
