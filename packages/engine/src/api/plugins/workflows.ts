import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes, type ApplyReply, type WorkflowInfo, type WorkflowVersionInfo } from '@pilotage/api';
import type { Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { NotFoundError } from '../../domain/errors.js';
import { PlanError } from '../../domain/issue.js';
import type { JsonValue } from '../../domain/vocabulary.js';
import type { Plan, PlanTrigger } from '../../plan/types.js';
import { inProcessCompiler } from '../../service/file-compiler.js';
import type { WorkflowRecord, WorkflowVersionRecord } from '../../store/types.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses } from '../error-reply.js';
import { seesServerInternals, withoutServerPaths } from '../server-internals.js';
import { acceptSourceText, readSourceBody, SOURCE_CONTENT_TYPES } from './source-body.js';

const {
  applyWorkflow: applyRoute,
  putWorkflow,
  checkWorkflow,
  listWorkflows,
  getWorkflow,
  getWorkflowVersion,
  workflowDiff,
  enableWorkflow,
  disableWorkflow,
} = routes;

/**
 * `/v1/workflows`: the workflow store. Apply a version (admin) — the YAML or JSON text, or JSON
 * `{source, file?}` — compiled against the component registry (422 PLAN_INVALID with line and
 * field), stored with its source; the same text as the latest version stores nothing (200, not
 * 201). List, show, show a version with its source and plan, diff two versions (unified diff of
 * the sources), enable and disable (admin).
 */
export const workflowRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  // a child scope: only these routes take the raw text (the parser replaces the JSON one)
  await app.register(async (scope) => {
    acceptSourceText(scope);
    const files = scope.withTypeProvider<TypeBoxTypeProvider>();
    const applySchema = {
      tags: ['workflows'],
      consumes: [...SOURCE_CONTENT_TYPES],
      body: applyRoute.body,
      response: { ...applyRoute.response, ...errorResponses(400, 401, 403, 422) },
    };
    files.put(
      '/workflows/:name',
      {
        config: { scope: 'admin' },
        schema: {
          ...applySchema,
          summary: 'Apply a version of a workflow (its name: must match the URL)',
          params: putWorkflow.params,
        },
      },
      async (request, reply) => {
        const answer = await applyWorkflow(deps, request, request.params.name);
        return reply.code(answer.created ? 201 : 200).send(answer);
      },
    );
    files.post(
      '/workflows',
      {
        config: { scope: 'admin' },
        schema: { ...applySchema, summary: 'Apply a version of the workflow the file names' },
      },
      async (request, reply) => {
        const answer = await applyWorkflow(deps, request, undefined);
        return reply.code(answer.created ? 201 : 200).send(answer);
      },
    );
    files.post(
      '/workflows/check',
      {
        config: { scope: 'read' },
        schema: {
          tags: ['workflows'],
          summary: 'Check a workflow file without storing it: compile it against the registry',
          description:
            'Answers 200 with `valid` and, when the file would be refused, every issue (file, line, column, field) as applying it would report them: what editors show inline.',
          consumes: [...SOURCE_CONTENT_TYPES],
          body: checkWorkflow.body,
          response: { ...checkWorkflow.response, ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const { source, file = 'workflow.yaml' } = readSourceBody(request.body, false);
        try {
          const { planJson, warnings } = await (deps.compiler ?? inProcessCompiler).workflow(deps.store, source, file);
          const plan = JSON.parse(planJson) as Plan;
          const shown = seesServerInternals(request) ? plan : withoutServerPaths(plan as unknown as JsonValue);
          return { valid: true, issues: [], name: plan.name, warnings: [...warnings], plan: shown };
        } catch (error) {
          if (!(error instanceof PlanError)) throw error;
          return { valid: false, issues: [...error.issues], name: null, warnings: [] };
        }
      },
    );
  });

  app.get(
    '/workflows',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['workflows'],
        summary: 'List workflows',
        response: { ...listWorkflows.response, ...errorResponses(401) },
      },
    },
    async () => {
      const out: WorkflowInfo[] = [];
      for (const workflow of await deps.store.workflows.list()) {
        out.push(workflowInfo(workflow, await latestVersion(deps, workflow)));
      }
      return out;
    },
  );

  app.get(
    '/workflows/:name',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['workflows'],
        summary: 'Show a workflow and its versions, newest first',
        params: getWorkflow.params,
        response: { ...getWorkflow.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const workflow = await foundWorkflow(deps, request.params.name);
      const versions = await deps.store.workflows.versions(workflow.name);
      return { ...workflowInfo(workflow, versions[0]), versions: versions.map(versionInfo) };
    },
  );

  app.get(
    '/workflows/:name/versions/:version',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['workflows'],
        summary: 'Show one version: its source and compiled plan',
        description: "The plan's server paths (the file, component folders) are shown to admin tokens only.",
        params: getWorkflowVersion.params,
        response: { ...getWorkflowVersion.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const version = await foundVersion(deps, request.params.name, request.params.version);
      const plan = seesServerInternals(request) ? version.plan : withoutServerPaths(version.plan);
      return { ...versionInfo(version), name: version.name, source: version.source, plan };
    },
  );

  app.get(
    '/workflows/:name/diff',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['workflows'],
        summary: 'Unified diff of the sources of two versions',
        params: workflowDiff.params,
        querystring: workflowDiff.querystring,
        response: { ...workflowDiff.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const query: Static<typeof workflowDiff.querystring> = request.query;
      const workflow = await foundWorkflow(deps, request.params.name);
      const to = query.to ?? workflow.latestVersion;
      const from = query.from ?? to - 1;
      const [a, b] = [await foundVersion(deps, workflow.name, from), await foundVersion(deps, workflow.name, to)];
      const diff = createTwoFilesPatch(
        `${workflow.name}@${from}`,
        `${workflow.name}@${to}`,
        a.source,
        b.source,
        undefined,
        undefined,
        { context: 3, headerOptions: FILE_HEADERS_ONLY },
      );
      return { name: workflow.name, from, to, diff };
    },
  );

  for (const enabled of [true, false]) {
    app.post(
      `/workflows/:name/${enabled ? 'enable' : 'disable'}`,
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['workflows'],
          summary: enabled ? 'Enable a workflow (triggers start it again)' : 'Disable a workflow (no new runs)',
          params: (enabled ? enableWorkflow : disableWorkflow).params,
          response: { ...(enabled ? enableWorkflow : disableWorkflow).response, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const { name } = request.params;
        if (!(await deps.store.workflows.setEnabled(name, enabled, deps.clock()))) {
          throw new NotFoundError(`workflow ${name} not found; apply it first (pilotage workflow apply FILE)`);
        }
        request.log.info({ workflow: name, enabled }, enabled ? 'workflow enabled' : 'workflow disabled');
        return { name, enabled };
      },
    );
  }
};

/**
 * Compile and store the workflow text of `request` (its body), recording the request's token
 * name as the author and logging a new version. `urlName` (PUT) must equal the file's `name:`;
 * a mismatch is a PlanError at that line. Returns what the apply answer says.
 */
async function applyWorkflow(
  deps: ApiDeps,
  request: Pick<FastifyRequest, 'principal' | 'log'> & { readonly body: string | object },
  urlName: string | undefined,
): Promise<ApplyReply> {
  const defaultFile = urlName === undefined ? 'workflow.yaml' : `${urlName}.yaml`;
  const { source, file = defaultFile } = readSourceBody(request.body, false);
  const { name, planJson, warnings } = await (deps.compiler ?? inProcessCompiler).workflow(
    deps.store,
    source,
    file,
    urlName,
  );
  const digest = createHash('sha256').update(source).digest('hex');
  const { version, created } = await deps.store.workflows.apply({
    name,
    source,
    digest,
    planJson,
    at: deps.clock(),
    by: request.principal?.name ?? null,
  });
  if (created) request.log.info({ workflow: name, version: version.version }, 'workflow applied');
  const workflow = await deps.store.workflows.get(name);
  return {
    name,
    version: version.version,
    digest,
    created,
    enabled: workflow?.enabled ?? true,
    warnings: [...warnings],
  };
}

async function foundWorkflow(deps: ApiDeps, name: string): Promise<WorkflowRecord> {
  const workflow = await deps.store.workflows.get(name);
  if (workflow === undefined)
    throw new NotFoundError(`workflow ${name} not found; apply it first (pilotage workflow apply FILE)`);
  return workflow;
}

async function foundVersion(deps: ApiDeps, name: string, version: number): Promise<WorkflowVersionRecord> {
  const record = await deps.store.workflows.getVersion(name, version);
  if (record === undefined) throw new NotFoundError(`workflow ${name} has no version ${version}`);
  return record;
}

function latestVersion(deps: ApiDeps, workflow: WorkflowRecord): Promise<WorkflowVersionRecord | undefined> {
  return deps.store.workflows.getVersion(workflow.name, workflow.latestVersion);
}

function workflowInfo(workflow: WorkflowRecord, latest: WorkflowVersionRecord | undefined): WorkflowInfo {
  const plan = (latest?.plan ?? {}) as Partial<Plan>;
  return {
    name: workflow.name,
    enabled: workflow.enabled,
    latestVersion: workflow.latestVersion,
    description: typeof plan.description === 'string' ? plan.description : null,
    triggers: (plan.triggers ?? []).map(triggerSummary),
    createdAt: workflow.createdAt,
    updatedAt: workflow.updatedAt,
  };
}

function versionInfo(version: WorkflowVersionRecord): WorkflowVersionInfo {
  return {
    version: version.version,
    digest: version.digest,
    createdAt: version.createdAt,
    createdBy: version.createdBy,
  };
}

/** One line per trigger, for lists. */
export function triggerSummary(trigger: PlanTrigger): string {
  switch (trigger.kind) {
    case 'manual':
      return 'manual';
    case 'webhook':
      return `webhook ${trigger.provider}${trigger.events.length > 0 ? ` ${trigger.events.join(',')}` : ''}`;
    case 'cdevent':
      return `cdevent ${trigger.type}`;
    case 'cron':
      return `cron ${trigger.schedule}${trigger.timezone === undefined ? '' : ` (${trigger.timezone})`}`;
  }
}
