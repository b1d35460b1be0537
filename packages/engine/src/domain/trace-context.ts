/**
 * W3C trace context (https://www.w3.org/TR/trace-context/): what joins one process's spans to
 * another's trace. Carried as the `traceparent` and `tracestate` HTTP headers, and as the
 * TRACEPARENT and TRACESTATE environment variables of a component.
 */
export interface TraceContext {
  /** `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>` */
  readonly traceparent: string;
  /** vendor entries, passed on as received */
  readonly tracestate?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Longest `tracestate` passed on (the spec's 32 entries of at most 256 characters, with commas). */
const TRACESTATE_MAX_CHARS = 8224;

/**
 * The trace context in a `traceparent` and `tracestate` pair (headers or env vars), or undefined
 * when `traceparent` is missing or invalid by the W3C rules: version `ff`, an all-zero trace or
 * span id, uppercase hex, or a version-00 value with extra fields. Such a value is ignored (the
 * run starts a trace of its own), never an error. An over-long `tracestate` is dropped.
 */
export function parseTraceContext(
  traceparent: string | readonly string[] | undefined,
  tracestate?: string | readonly string[],
): TraceContext | undefined {
  const parent = single(traceparent)?.trim();
  if (parent === undefined) return undefined;
  const match = TRACEPARENT.exec(parent);
  if (match === null) return undefined;
  const [, version, traceId, spanId, , rest] = match;
  if (version === 'ff' || /^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  // a later version's extra fields are not ours to pass on
  const normalized = rest === undefined ? parent : parent.slice(0, parent.length - rest.length);
  const state = (Array.isArray(tracestate) ? tracestate.join(',') : single(tracestate))?.trim();
  return state === undefined || state === '' || state.length > TRACESTATE_MAX_CHARS
    ? { traceparent: normalized }
    : { traceparent: normalized, tracestate: state };
}

/** The trace id (32 hex) of a valid trace context. */
export function traceIdOf(context: TraceContext): string {
  return context.traceparent.slice(3, 35);
}

/** The span id (16 hex) a trace context names as the parent. */
export function spanIdOf(context: TraceContext): string {
  return context.traceparent.slice(36, 52);
}

/** The trace context of a request's headers (names lowercase, as Node gives them). */
export function traceContextOfHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): TraceContext | undefined {
  return parseTraceContext(headers['traceparent'], headers['tracestate']);
}

function single(value: string | readonly string[] | undefined): string | undefined {
  // two traceparent headers are ambiguous: the spec says to ignore both
  if (Array.isArray(value)) return value.length === 1 ? (value[0] as string) : undefined;
  return value as string | undefined;
}
