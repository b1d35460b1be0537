import { HTTP } from 'cloudevents';
import { depthMessage, jsonTextTooDeep, unsafeJsonProblem } from '../domain/json-text.js';
import { isJsonObject } from '../domain/vocabulary.js';
import type { InboxStore } from '../store/types.js';
import { CUSTOM_TYPE_PREFIX, type CDEvent, type CdeventIssue } from './types.js';
import { hasCustomSchema, validateCdevent } from './validate.js';

/**
 * Incoming CDEvents over HTTP (`POST /v1/cdevents`): one CloudEvent per request, in binary mode
 * (`ce-*` headers, the CDEvent as the JSON body) or structured mode (`Content-Type:
 * application/cloudevents+json`, the CDEvent in `data`). Batches are refused.
 */

/** An HTTP request as the server hands it over. `body` may be raw text/bytes or already parsed JSON. */
export interface IncomingRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** The outcome of parsing an incoming request. */
export type IncomingResult =
  | { readonly ok: true; readonly event: CDEvent; readonly mode: 'binary' | 'structured' }
  | { readonly ok: false; readonly status: 400; readonly errors: readonly CdeventIssue[] };

function bad(path: string, message: string): IncomingResult {
  return { ok: false, status: 400, errors: [{ path, message }] };
}

function mediaType(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  return (text.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Parse a request into a CDEvent with the `cloudevents` package (`HTTP.toEvent`), then validate
 * it against the schema of its type. A 400 result lists issues whose `path` is a JSON Pointer
 * into the CDEvent (``, when the envelope itself is wrong). Also checks that the CloudEvent's
 * `id`, `type` and `source` agree with the CDEvent's context, as the binding requires.
 *
 * `context.schemaUri`: a schema registered locally (`registerCustomSchema`, see
 * `custom-schemas.ts`) is applied on top of the type's schema. An unregistered one is never
 * fetched: a core event is then held to its official schema alone (which fully describes it),
 * while a custom `dev.cdeventsx.*` event, whose only contract is that schema, is refused at
 * `/context/schemaUri`.
 */
export function parseIncomingCdevent(request: IncomingRequest): IncomingResult {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  const type = mediaType(headers['content-type']);
  if (type === 'application/cloudevents-batch+json')
    return bad('', 'batched CloudEvents are not accepted: send one event per request');
  const structured = type === 'application/cloudevents+json';
  // The SDK looks content types up verbatim; normalise `; charset=UTF-8` and the like.
  if (structured) headers['content-type'] = 'application/cloudevents+json';
  else if (type === 'application/json') headers['content-type'] = 'application/json';
  let body = request.body;
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  if (body === undefined || body === null || body === '')
    return bad('', 'the request has no body: a CDEvent is expected');

  let data: unknown;
  let ce: { id: string; type: string; source: string };
  // before the CloudEvents library parses and copies it: a deep event must be refused, not crash
  if (typeof body === 'string' && jsonTextTooDeep(body)) return bad('', `the event ${depthMessage()}`);
  try {
    const parsed = HTTP.toEvent({ headers, body });
    if (Array.isArray(parsed)) return bad('', 'batched CloudEvents are not accepted: send one event per request');
    ce = parsed;
    data = parsed.data;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return bad(
      '',
      `not a CloudEvent: ${message} (send ce-* headers with Content-Type: application/json, or Content-Type: application/cloudevents+json)`,
    );
  }
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return bad('', 'the CloudEvent data is not JSON: a CDEvent document is expected');
    }
  }
  if (!isJsonObject(data)) return bad('', 'the CloudEvent data must be a CDEvent JSON object');
  const unsafe = unsafeJsonProblem(data);
  if (unsafe !== undefined) return bad(unsafe.kind === 'key' ? `/${unsafe.path.join('/')}` : '', unsafe.message);

  const result = validateCdevent(data);
  if (!result.ok) return { ok: false, status: 400, errors: result.errors };
  const event = data as unknown as CDEvent;
  const mismatches: CdeventIssue[] = [];
  for (const key of ['id', 'type', 'source'] as const) {
    if (ce[key] !== event.context[key]) {
      mismatches.push({
        path: `/context/${key}`,
        message: `"${event.context[key]}" differs from the CloudEvent ${key} "${ce[key]}"`,
      });
    }
  }
  if (mismatches.length > 0) return { ok: false, status: 400, errors: mismatches };
  const { schemaUri } = event.context;
  if (event.context.type.startsWith(CUSTOM_TYPE_PREFIX) && schemaUri !== undefined && !hasCustomSchema(schemaUri)) {
    return bad(
      '/context/schemaUri',
      `names a schema this server does not have ("${schemaUri}"); schemas are never fetched: register it with the server (docs/cdevents.md, "Custom events")`,
    );
  }
  return { ok: true, event, mode: structured ? 'structured' : 'binary' };
}

/** The outcome of receiving an incoming request: parsed, validated and deduplicated. */
export type ReceiveResult =
  | { readonly ok: true; readonly event: CDEvent; readonly duplicate: boolean }
  | { readonly ok: false; readonly status: 400; readonly errors: readonly CdeventIssue[] };

/**
 * `parseIncomingCdevent`, then record (`source`, `id`) in `inbox`. `duplicate: true` means the
 * event was seen before: answer 2xx (the sender must stop retrying) and do nothing else.
 */
export async function receiveCdevent(request: IncomingRequest, inbox: InboxStore, at: number): Promise<ReceiveResult> {
  const parsed = parseIncomingCdevent(request);
  if (!parsed.ok) return parsed;
  const { context } = parsed.event;
  const isNew = await inbox.recordIfNew(context.source, context.id, context.type, at);
  return { ok: true, event: parsed.event, duplicate: !isNew };
}
