import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { UnavailableError, ValidationError } from '../../domain/errors.js';
import { createCdeventDispatcher, type DispatchedRun } from '../../events/cdevent-dispatcher.js';
import { CUSTOM_SCHEMA_FOLDER, loadCustomSchemas } from '../../events/custom-schemas.js';
import { receiveCdevent } from '../../events/incoming.js';
import type { CdeventIssue } from '../../events/types.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses, pointerKeys } from '../error-reply.js';
import { cloudEventTraceParent } from '../trace-parent.js';

/** What `POST /v1/cdevents` answers for an accepted (or already seen) event. */
export const CdeventReceipt = Type.Object({
  id: Type.String({ description: 'context.id of the event' }),
  source: Type.String({ description: 'context.source of the event' }),
  type: Type.String({ description: 'context.type of the event' }),
  duplicate: Type.Boolean({ description: 'true: (source, id) was seen before; nothing was started now' }),
  runs: Type.Array(Type.Object({ id: Type.String(), workflow: Type.String(), number: Type.Integer() }), {
    description: 'the runs the event started (for a duplicate: those its first delivery started)',
  }),
  skipped: Type.Array(Type.Object({ workflow: Type.String(), reason: Type.String() }), {
    description: 'workflows whose trigger matched but that did not start, or whose filter failed',
  }),
});

/** The media types whose bodies this plugin reads as text and hands to the CloudEvents SDK. */
const CLOUDEVENT_TYPES = ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'];

/**
 * `POST /v1/cdevents`: receive one CDEvent as a CloudEvent over HTTP, binary or structured mode
 * (`events/incoming.ts`), validated against the schema of its type; record it in the inbox by
 * (`source`, `id`) and start the workflows whose `cdevent` triggers match
 * (`events/cdevent-dispatcher.ts`). Scope `run`. 202 for a new event, 200 for a duplicate, 400
 * with each schema violation's JSON Pointer in `details[].path`. At registration, the schemas in
 * `<dataDir>/cdevents-schemas/` are registered for `context.schemaUri` (`custom-schemas.ts`).
 */
export const cdeventRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  // The CloudEvents SDK parses both modes from the raw text (and checks the body is JSON), so
  // the bodies of this plugin's routes stay strings; this parser only applies inside the plugin.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(CLOUDEVENT_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const schemaDir = join(deps.config.dataDir, CUSTOM_SCHEMA_FOLDER);
  const uris = await loadCustomSchemas(schemaDir);
  if (uris.length > 0) app.log.info(`CDEvents schemas registered from ${schemaDir}: ${uris.join(', ')}`);
  const dispatcher = createCdeventDispatcher({
    workflows: deps.store.workflows,
    starter: deps.starter,
    cancel: (runId, reason) => deps.engine.cancelRun(runId, reason),
  });

  app.post(
    '/cdevents',
    {
      config: { scope: 'run' },
      schema: {
        tags: ['cdevents'],
        summary: 'Receive a CDEvent (CloudEvents binary or structured mode) and start the workflows it triggers',
        description:
          'Binary mode: `ce-specversion`, `ce-id`, `ce-source`, `ce-type` headers, `Content-Type: application/json`, ' +
          'the CDEvent as body. Structured mode: `Content-Type: application/cloudevents+json`, the CDEvent in `data`. ' +
          'One event per request. The event must validate against the CDEvents v0.5.1 schema of its type.',
        consumes: ['application/json', 'application/cloudevents+json'],
        body: Type.Unknown({ description: 'a CloudEvent carrying a CDEvent' }),
        response: { 200: CdeventReceipt, 202: CdeventReceipt, ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      if (!deps.lifecycle.accepting) {
        throw new UnavailableError('the server is shutting down; send the event again later');
      }
      const received = await receiveCdevent(
        { headers: request.headers, body: request.body },
        deps.store.inbox,
        deps.clock(),
      );
      if (!received.ok) throw invalidEvent(received.errors, isStructured(request.headers['content-type']));
      const { context } = received.event;
      const receipt = { id: context.id, source: context.source, type: context.type };
      if (received.duplicate) {
        const seen = await deps.store.inbox.get(context.source, context.id);
        const runs = await describeRuns(deps, seen?.runIds ?? []);
        const answer: Static<typeof CdeventReceipt> = { ...receipt, duplicate: true, runs, skipped: [] };
        return reply.code(200).send(answer);
      }
      let result;
      try {
        result = await dispatcher.dispatch(received.event, cloudEventTraceParent(request.headers, request.body));
      } catch (error) {
        // all or nothing: the runs it started are cancelled, and the sender's retry is handled anew
        await deps.store.inbox.forget(context.source, context.id).catch(() => undefined);
        throw error;
      }
      await deps.store.inbox.markProcessed(
        context.source,
        context.id,
        result.runs.map((r) => r.id),
        deps.clock(),
      );
      for (const skip of result.skipped) {
        request.log.warn({ event: receipt, workflow: skip.workflow }, `CDEvent trigger skipped: ${skip.reason}`);
      }
      const answer: Static<typeof CdeventReceipt> = {
        ...receipt,
        duplicate: false,
        runs: [...result.runs],
        skipped: [...result.skipped],
      };
      return reply.code(202).send(answer);
    },
  );
};

function isStructured(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/cloudevents+json';
}

/**
 * A 400 for an event that is not a valid CDEvent. Each detail keeps the JSON Pointer into the
 * CDEvent (`path`) and names the request field as the rest of the API does (`field`: the CDEvent
 * is the body in binary mode, the body's `data` in structured mode).
 */
function invalidEvent(issues: readonly CdeventIssue[], structured: boolean): ValidationError {
  const root = structured ? 'body.data' : 'body';
  const details = issues.map((issue) => ({
    field: issue.path === '' ? 'body' : [root, ...pointerKeys(issue.path)].join('.'),
    path: issue.path,
    message: issue.message,
  }));
  const text = details.map((d) => `${d.path || '(event)'}: ${d.message}`).join('; ');
  return new ValidationError(`the CDEvent is not valid: ${text}`, { details });
}

/** The runs (by id) a previous delivery of the event started, as far as they still exist. */
async function describeRuns(deps: ApiDeps, ids: readonly string[]): Promise<DispatchedRun[]> {
  const runs: DispatchedRun[] = [];
  for (const id of ids) {
    const run = await deps.store.runs.get(id);
    if (run !== undefined) runs.push({ id: run.id, workflow: run.workflow, number: run.number });
  }
  return runs;
}
