import type { IncomingHttpHeaders } from 'node:http';
import { parseTraceContext, traceContextOfHeaders, type TraceContext } from '../domain/trace-context.js';
import { isJsonObject, type JsonValue } from '../domain/vocabulary.js';

/**
 * The caller's W3C trace context (`traceparent`, `tracestate` headers) as the starter's
 * `traceParent` option, ready to spread: `{}` when there is none or it is invalid.
 */
export function traceParentOf(headers: IncomingHttpHeaders): { traceParent?: TraceContext } {
  const traceParent = traceContextOfHeaders(headers);
  return traceParent === undefined ? {} : { traceParent };
}

/**
 * The trace context of an incoming CloudEvent: the HTTP request's own headers first, else the
 * CloudEvents distributed-tracing extension (`ce-traceparent` headers in binary mode, the
 * `traceparent` attribute in structured mode).
 */
export function cloudEventTraceParent(headers: IncomingHttpHeaders, body: unknown): TraceContext | undefined {
  const structured = isJsonObject(body as JsonValue) ? (body as Record<string, unknown>) : {};
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return (
    traceContextOfHeaders(headers) ??
    parseTraceContext(headers['ce-traceparent'], headers['ce-tracestate']) ??
    parseTraceContext(text(structured['traceparent']), text(structured['tracestate']))
  );
}
