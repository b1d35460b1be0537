import { CloudEvent, HTTP } from 'cloudevents';
import { isJsonObject, type JsonObject } from '../domain/vocabulary.js';
import { CLOUDEVENTS_SPEC_VERSION } from './types.js';

/**
 * The CloudEvents binding of a CDEvent (CDEvents `cloudevents-binding.md`, v0.5.1): the
 * CloudEvent's `id`, `source`, `type`, `subject` and `time` are the CDEvent's `context.id`,
 * `context.source`, `context.type`, `subject.id` and `context.timestamp`; its `data` is the whole
 * CDEvent as `application/json`.
 */

/** HTTP content mode: CloudEvent attributes in `ce-*` headers, or a JSON envelope. */
export type CloudEventsMode = 'binary' | 'structured';

/** Headers and body of an HTTP request carrying one event. */
export interface HttpMessage {
  readonly headers: Record<string, string>;
  readonly body: string;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Wrap a CDEvent document in a CloudEvent. `id` and `time` are always taken from the CDEvent
 * (the SDK would otherwise invent them), so a retried delivery carries the same values.
 */
export function toCloudEvent(cdevent: JsonObject): CloudEvent<JsonObject> {
  const context = isJsonObject(cdevent.context) ? cdevent.context : {};
  const subject = isJsonObject(cdevent.subject) ? cdevent.subject : {};
  return new CloudEvent<JsonObject>({
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: text(context.id),
    source: text(context.source),
    type: text(context.type),
    subject: text(subject.id) || undefined,
    time: text(context.timestamp),
    datacontenttype: 'application/json',
    data: cdevent,
  });
}

/** The HTTP request headers and body for a CDEvent in `mode`. */
export function toHttpMessage(cdevent: JsonObject, mode: CloudEventsMode): HttpMessage {
  const ce = toCloudEvent(cdevent);
  const message = mode === 'binary' ? HTTP.binary(ce) : HTTP.structured(ce);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return { headers, body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body) };
}
