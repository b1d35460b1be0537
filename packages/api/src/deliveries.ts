import { Type, type Static } from '@sinclair/typebox';
import { Millis } from './common.js';

/** CDEvents the server emitted, and their delivery to each sink. */

export const DeliveryState = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]);

/** The delivery of one emitted CDEvent to one sink. */
export const DeliveryInfo = Type.Object({
  eventSeq: Type.Integer({ description: 'outbox order of the event' }),
  eventId: Type.String({ description: 'context.id of the CDEvent' }),
  runId: Type.Union([Type.String(), Type.Null()]),
  type: Type.String({ description: 'context.type of the CDEvent' }),
  sink: Type.String(),
  state: DeliveryState,
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.Integer({ description: 'epoch ms; no attempt before it' }),
  deliveredAt: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch ms' }),
  firstFailedAt: Type.Union([Type.Integer(), Type.Null()], {
    description: 'epoch ms: when the current streak of failed attempts began (null: none)',
  }),
});
export type DeliveryInfo = Static<typeof DeliveryInfo>;

const Filters = {
  sink: Type.Optional(Type.String({ minLength: 1, description: 'sink name (an HTTP sink: its URL)' })),
  runId: Type.Optional(Type.String({ minLength: 1 })),
  eventId: Type.Optional(Type.String({ minLength: 1, description: 'context.id of the CDEvent' })),
  type: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'event type: exact, unversioned (any version) or a * glob, as sink filters',
    }),
  ),
};

export const ListDeliveriesQuery = Type.Object(
  {
    ...Filters,
    state: Type.Optional(DeliveryState),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const DeliveryPage = Type.Object({
  deliveries: Type.Array(DeliveryInfo),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
});

export const RedeliverBody = Type.Object(Filters, { additionalProperties: false });
export const RedeliverReply = Type.Object({
  redelivered: Type.Integer({ description: 'how many went back to pending' }),
});

/** One emitted CDEvent of a run with its delivery state per sink. */
export const RunCdevent = Type.Object({
  seq: Type.Integer(),
  runSeq: Type.Union([Type.Integer(), Type.Null()], {
    description: "the event's place among its run's events, 1, 2, 3… in the order they were written",
  }),
  id: Type.String(),
  type: Type.String(),
  createdAt: Millis,
  event: Type.Unknown({ description: 'the CDEvent document' }),
  deliveries: Type.Array(Type.Omit(DeliveryInfo, ['eventSeq', 'eventId', 'runId', 'type'])),
});
export type RunCdevent = Static<typeof RunCdevent>;

export const RunCdevents = Type.Object({ events: Type.Array(RunCdevent) });
