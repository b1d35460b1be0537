import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError } from '../../domain/errors.js';
import { NAME_PATTERN } from '../../plan/schema-defs.js';
import { inProcessCompiler } from '../../service/file-compiler.js';
import type { ComponentVersionRecord } from '../../store/types.js';
import { seesServerInternals } from '../server-internals.js';
import type { ApiDeps } from '../api-deps.js';
import { emptyBodyAsObject } from '../empty-body.js';
import { errorResponses } from '../error-reply.js';
import { acceptSourceText, readSourceBody, SOURCE_CONTENT_TYPES } from './source-body.js';

/** A registered component version as lists show it. */
export const ComponentInfo = Type.Object({
  name: Type.String(),
  version: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  image: Type.Union([Type.String(), Type.Null()]),
  deprecated: Type.Boolean(),
  deprecationMessage: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer({ description: 'epoch ms' }),
  createdBy: Type.Union([Type.String(), Type.Null()], { description: 'the API token name that registered it' }),
});

/** One version in full: its spec (the component.yaml as JSON) and the text it was registered from. */
export const ComponentDetail = Type.Composite([
  ComponentInfo,
  Type.Object({
    spec: Type.Object({}, { additionalProperties: true }),
    source: Type.String(),
    dir: Type.Union([Type.String(), Type.Null()], {
      description: 'component folder on the server (local executor); shown to admin tokens only',
    }),
  }),
]);

const NameParams = Type.Object({ name: Type.String({ pattern: NAME_PATTERN }) });
const VersionParams = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN }),
  version: Type.String({ minLength: 1 }),
});

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
          body: Type.String({ description: 'the component file' }),
          response: { 201: ComponentDetail, ...errorResponses(400, 401, 403, 409, 422) },
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
  });

  const ListQuery = Type.Object({
    q: Type.Optional(Type.String({ description: 'substring of the name or description, any case' })),
    deprecated: Type.Optional(Type.Boolean({ description: 'include deprecated versions (default false)' })),
  });
  app.get(
    '/components',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['components'],
        summary: 'List or search components (the newest version of each)',
        querystring: ListQuery,
        response: { 200: Type.Array(ComponentInfo), ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const query: Static<typeof ListQuery> = request.query;
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
        params: NameParams,
        response: {
          200: Type.Object({ name: Type.String(), versions: Type.Array(ComponentInfo) }),
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request) => {
      const versions = await deps.store.components.versions(request.params.name);
      if (versions.length === 0) throw new NotFoundError(`component ${request.params.name} is not registered`);
      return { name: request.params.name, versions: versions.map(componentInfo) };
    },
  );

  app.get(
    '/components/:name/:version',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['components'],
        summary: 'Show one component version: its spec and source',
        params: VersionParams,
        response: { 200: ComponentDetail, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const detail = componentDetail(await found(deps, request.params.name, request.params.version));
      return seesServerInternals(request) ? detail : { ...detail, dir: null };
    },
  );

  const DeprecateBody = Type.Object(
    { message: Type.Optional(Type.String({ description: 'why, and what to use instead' })) },
    { additionalProperties: false },
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
        params: VersionParams,
        body: DeprecateBody,
        response: { 200: ComponentInfo, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      const body: Static<typeof DeprecateBody> = request.body;
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

function componentInfo(record: ComponentVersionRecord): Static<typeof ComponentInfo> {
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

function componentDetail(record: ComponentVersionRecord): Static<typeof ComponentDetail> {
  return { ...componentInfo(record), spec: record.spec, source: record.source, dir: record.dir ?? null };
}
