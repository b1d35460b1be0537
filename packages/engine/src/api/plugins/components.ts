import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes, type ComponentDetail, type ComponentInfo, type ComponentUsage } from '@pilotage/api';
import type { Static } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import { PlanError } from '../../domain/issue.js';
import type { Plan } from '../../plan/types.js';
import { inProcessCompiler } from '../../service/file-compiler.js';
import type { ComponentVersionRecord } from '../../store/types.js';
import { seesServerInternals } from '../server-internals.js';
import type { ApiDeps } from '../api-deps.js';
import { emptyBodyAsObject } from '../empty-body.js';
import { errorResponses } from '../error-reply.js';
import { acceptSourceText, readSourceBody, SOURCE_CONTENT_TYPES } from './source-body.js';

const {
  registerComponent,
  checkComponent,
  listComponents,
  componentVersions,
  componentUsage,
  getComponent,
  deprecateComponent,
} = routes;

/**
 * `/v1/components`: the component registry. Register a version (admin) from its component.yaml
 * text — YAML, JSON, or JSON `{source, file?, dir?}` — checked by the component parser (422
 * PLAN_INVALID with line and field), immutable (409 when `name@version` exists); list and search
 * (newest non-deprecated version of each), show versions, show one, deprecate (admin).
 */
export const componentRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  // a child scope: only these routes take the raw text (the parser replaces the JSON one)
  await app.register(async (scope) => {
    acceptSourceText(scope);
    const files = scope.withTypeProvider<TypeBoxTypeProvider>();
    files.post(
      '/components',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['components'],
          summary: 'Register a component version',
          description:
            'The body is a component.yaml (application/yaml, text/yaml or application/json), or JSON `{"source": "<text>", "file"?: "<name in issues>", "dir"?: "<absolute folder on the server for the local executor>"}`.',
          consumes: [...SOURCE_CONTENT_TYPES],
          body: registerComponent.body,
          response: { ...registerComponent.response, ...errorResponses(400, 401, 403, 409, 422) },
        },
      },
      async (request, reply) => {
        const body = readSourceBody(request.body, true);
        const file = body.file ?? 'component.yaml';
        const { component, spec } = await (deps.compiler ?? inProcessCompiler).component(body.source, file);
        const record: ComponentVersionRecord = {
          name: component.name,
          version: component.version,
          spec,
          source: body.source,
          deprecated: false,
          deprecationMessage: null,
          dir: body.dir ?? null,
          createdAt: deps.clock(),
          createdBy: request.principal?.name ?? null,
        };
        await deps.store.components.register(record);
        request.log.info({ component: `${record.name}@${record.version}` }, 'component registered');
        return reply.code(201).send(componentDetail(record));
      },
    );
    files.post(
      '/components/check',
      {
        config: { scope: 'read' },
        schema: {
          tags: ['components'],
          summary: 'Check a component file without registering it',
          description:
            'Answers 200 with `valid`, its name, version and spec, or every issue (file, line, column, field) registering it would report.',
          consumes: [...SOURCE_CONTENT_TYPES],
          body: checkComponent.body,
          response: { ...checkComponent.response, ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const body = readSourceBody(request.body, true);
        const file = body.file ?? 'component.yaml';
        try {
          const { component, spec } = await (deps.compiler ?? inProcessCompiler).component(body.source, file);
          return {
            valid: true,
            issues: [],
            name: component.name,
            version: component.version,
            warnings: [],
            plan: spec,
          };
        } catch (error) {
          if (!(error instanceof PlanError)) throw error;
          return { valid: false, issues: [...error.issues], name: null, warnings: [] };
        }
      },
    );
  });

  app.get(
    '/components',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['components'],
        summary: 'List or search components (the newest version of each)',
        querystring: listComponents.querystring,
        response: { ...listComponents.response, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const query: Static<typeof listComponents.querystring> = request.query;
      const list = await deps.store.components.list({
        ...(query.q === undefined ? {} : { query: query.q }),
        includeDeprecated: query.deprecated === true,
      });
      return list.map(componentInfo);
    },
  );

  app.get(
    '/components/:name',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['components'],
        summary: 'List the versions of a component, newest first',
        params: componentVersions.params,
        response: { ...componentVersions.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const versions = await deps.store.components.versions(request.params.name);
      if (versions.length === 0) throw new NotFoundError(`component ${request.params.name} is not registered`);
      return { name: request.params.name, versions: versions.map(componentInfo) };
    },
  );

  app.get(
    '/components/:name/usage',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['components'],
        summary: 'The workflows whose latest version uses a component, and the actions that do',
        params: componentUsage.params,
        response: { ...componentUsage.response, ...errorResponses(400, 401) },
      },
    },
    async (request) => usageOf(deps, request.params.name),
  );

  app.get(
    '/components/:name/:version',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['components'],
        summary: 'Show one component version: its spec and source',
        params: getComponent.params,
        response: { ...getComponent.response, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const detail = componentDetail(await found(deps, request.params.name, request.params.version));
      return seesServerInternals(request) ? detail : { ...detail, dir: null };
    },
  );

  app.post(
    '/components/:name/:version/deprecate',
    {
      config: { scope: 'admin' },
      // the body is optional: none means no message
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['components'],
        summary: 'Deprecate a component version (ranges skip it; exact references still resolve)',
        params: deprecateComponent.params,
        body: deprecateComponent.body,
        response: { ...deprecateComponent.response, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      const body: Static<typeof deprecateComponent.body> = request.body;
      if (!(await deps.store.components.deprecate(name, version, body.message ?? null))) {
        throw new NotFoundError(`component ${name}@${version} is not registered`);
      }
      request.log.info({ component: `${name}@${version}` }, 'component deprecated');
      return componentInfo(await found(deps, name, version));
    },
  );
};

async function found(deps: ApiDeps, name: string, version: string): Promise<ComponentVersionRecord> {
  const record = await deps.store.components.get(name, version);
  if (record === undefined) throw new NotFoundError(`component ${name}@${version} is not registered`);
  return record;
}

function componentInfo(record: ComponentVersionRecord): ComponentInfo {
  const text = (key: string): string | null => {
    const value = record.spec[key];
    return typeof value === 'string' ? value : null;
  };
  return {
    name: record.name,
    version: record.version,
    description: text('description'),
    image: text('image'),
    deprecated: record.deprecated,
    deprecationMessage: record.deprecationMessage,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
  };
}

function componentDetail(record: ComponentVersionRecord): ComponentDetail {
  return { ...componentInfo(record), spec: record.spec, source: record.source, dir: record.dir ?? null };
}

/** The latest version of each workflow whose plan has an action running component `name`. */
async function usageOf(deps: ApiDeps, name: string): Promise<ComponentUsage> {
  const workflows: ComponentUsage['workflows'][number][] = [];
  for (const workflow of await deps.store.workflows.list()) {
    const latest = await deps.store.workflows.getVersion(workflow.name, workflow.latestVersion);
    const plan = (latest?.plan ?? {}) as Partial<Plan>;
    const actions = (plan.stages ?? []).flatMap((stage) =>
      (stage.actions ?? [])
        .filter((action) => action.component?.name === name)
        .map((action) => ({
          stage: stage.name,
          action: action.name,
          component: `${action.component.name}@${action.component.version}`,
        })),
    );
    if (actions.length > 0) workflows.push({ workflow: workflow.name, version: workflow.latestVersion, actions });
  }
  return { name, workflows };
}
