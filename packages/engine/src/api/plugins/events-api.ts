import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { routes } from '@pilotage/api';
import type { Static } from '@sinclair/typebox';
import type { DeliveryFilter, DeliveryRecord } from '../../store/types.js';
import type { ApiDeps } from '../api-deps.js';
import { errorResponses, invalidFields } from '../error-reply.js';
import { mustGetRun } from '../run-lookup.js';

const { listDeliveries, redeliver, runCdevents } = routes;

/**
 * Delivery state of emitted CDEvents:
 * - `GET /v1/events` (read): deliveries per event and sink, newest event first, filtered by
 *   sink, state, run, event id and type pattern, `limit` per page, `cursor` for the next page;
 * - `POST /v1/events/redeliver` (admin): move matching `dead` deliveries back to `pending`;
 * - `GET /v1/runs/:id/cdevents` (read): a run's CDEvents in emission order, whole, each with its
 *   deliveries.
 */
export const eventRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/events',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['events'],
        summary: 'List CDEvent deliveries per event and sink',
        querystring: listDeliveries.querystring,
        response: { ...listDeliveries.response, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const query: Static<typeof listDeliveries.querystring> = request.query;
      // Ajv fills the default; `??` restates it for the type checker
      const limit = query.limit ?? 100;
      const filter: DeliveryFilter = {
        ...filterOf(query),
        ...(query.state === undefined ? {} : { state: query.state }),
        ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor) }),
        limit,
      };
      const deliveries = await deps.store.deliveries.list(filter);
      const last = deliveries.at(-1);
      const full = deliveries.length === limit && last !== undefined;
      return { deliveries, nextCursor: full ? encodeCursor(last) : null };
    },
  );

  app.post(
    '/events/redeliver',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['events'],
        summary: 'Send dead-lettered CDEvent deliveries again',
        description:
          'Moves the matching `dead` deliveries back to `pending`, due now, with the attempt count reset. ' +
          'No filter: every dead delivery.',
        body: redeliver.body,
        response: { ...redeliver.response, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const body: Static<typeof redeliver.body> = request.body;
      return { redelivered: await deps.store.deliveries.redeliver(filterOf(body), deps.clock()) };
    },
  );

  app.get(
    '/runs/:id/cdevents',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['events'],
        summary: "A run's CDEvents in emission order, with their delivery state per sink",
        params: runCdevents.params,
        response: { ...runCdevents.response, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      await mustGetRun(deps.store, id);
      const events = await deps.store.outbox.listByRun(id);
      const bySeq = new Map<number, DeliveryRecord[]>();
      for (const delivery of await allDeliveries(deps, id)) {
        let list = bySeq.get(delivery.eventSeq);
        if (list === undefined) bySeq.set(delivery.eventSeq, (list = []));
        list.push(delivery);
      }
      return {
        events: events.map((e) => ({
          seq: e.seq,
          runSeq: e.runSeq,
          id: e.id,
          type: e.type,
          createdAt: e.createdAt,
          event: e.payload,
          deliveries: (bySeq.get(e.seq) ?? []).map((d) => ({
            sink: d.sink,
            state: d.state,
            attempts: d.attempts,
            lastError: d.lastError,
            nextAttemptAt: d.nextAttemptAt,
            deliveredAt: d.deliveredAt,
            firstFailedAt: d.firstFailedAt,
          })),
        })),
      };
    },
  );
};

function filterOf(input: { sink?: string; runId?: string; eventId?: string; type?: string }): DeliveryFilter {
  return {
    ...(input.sink === undefined ? {} : { sink: input.sink }),
    ...(input.runId === undefined ? {} : { runId: input.runId }),
    ...(input.eventId === undefined ? {} : { eventId: input.eventId }),
    ...(input.type === undefined ? {} : { type: input.type }),
  };
}

/** Every delivery of a run's events, read page by page. */
async function allDeliveries(deps: ApiDeps, runId: string): Promise<DeliveryRecord[]> {
  const page = 500;
  const all: DeliveryRecord[] = [];
  let after: DeliveryFilter['after'];
  for (;;) {
    const items = await deps.store.deliveries.list({ runId, limit: page, ...(after ? { after } : {}) });
    all.push(...items);
    const last = items.at(-1);
    if (items.length < page || last === undefined) return all;
    after = { eventSeq: last.eventSeq, sink: last.sink };
  }
}

/** An opaque cursor: the position of the last delivery of a page. */
function encodeCursor(last: DeliveryRecord): string {
  return Buffer.from(JSON.stringify([last.eventSeq, last.sink])).toString('base64url');
}

function decodeCursor(cursor: string): { eventSeq: number; sink: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && Number.isInteger(value[0]) && typeof value[1] === 'string') {
      return { eventSeq: value[0] as number, sink: value[1] };
    }
  } catch {
    // reported below
  }
  throw invalidFields([
    {
      field: 'querystring.cursor',
      message: 'is not a cursor this server handed out (use nextCursor of the previous page)',
    },
  ]);
}
