import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { TraceContext } from '../domain/trace-context.js';
import type { TraceAttributes, TraceSpan, Tracing } from '../engine/ports.js';

/** What the OpenTelemetry tracing needs. */
export interface OtelTracingOptions {
  /** where spans are POSTed (OTLP/HTTP, JSON): the collector's `/v1/traces` URL */
  readonly url: string;
  /** `service.name` */
  readonly serviceName: string;
  /** `service.instance.id`: the engine id */
  readonly instanceId: string;
  /** told once a minute at most when spans could not be exported */
  readonly warn: (message: string) => void;
  /** most time between two exports, ms (default 2000) */
  readonly exportDelayMs?: number;
}

/** The OpenTelemetry tracing, with its exporter's lifetime. */
export interface OtelTracing extends Tracing {
  /** export what has ended so far */
  flush(): Promise<void>;
  /** export what has ended and stop; later spans are dropped */
  shutdown(): Promise<void>;
}

/** A warning about failed exports is repeated at most this often, ms. */
const WARN_EVERY_MS = 60_000;

const propagator = new W3CTraceContextPropagator();

/**
 * The engine's `Tracing` port over the official OpenTelemetry SDK: spans batched and exported
 * over OTLP/HTTP (JSON) by `@opentelemetry/exporter-trace-otlp-http`, which also reads the
 * standard OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and _CERTIFICATE variables. Trace
 * context is W3C (`traceparent`, `tracestate`). No global OpenTelemetry state is touched: parent
 * links are explicit, so several engines in one process (tests) keep to their own exporters.
 */
export function createOtelTracing(options: OtelTracingOptions): OtelTracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.instance.id': options.instanceId,
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: warnOnFailure(new OTLPTraceExporter({ url: options.url }), options),
        scheduledDelayMillis: options.exportDelayMs ?? 2000,
      }),
    ],
  });
  const tracer = provider.getTracer('pilotage');

  const wrap = (span: Span, parent: Context): TraceSpan => {
    const inside = trace.setSpan(parent, span);
    let ended = false;
    let context: TraceContext | undefined | null = null;
    return {
      get context() {
        if (context === null) context = contextOf(inside);
        return context;
      },
      child: (name, attributes) => wrap(tracer.startSpan(name, { attributes: defined(attributes) }, inside), inside),
      event: (name, attributes) => {
        if (!ended) span.addEvent(name, defined(attributes));
      },
      set: (attributes) => {
        if (!ended) span.setAttributes(defined(attributes) ?? {});
      },
      end: (error) => {
        if (ended) return;
        ended = true;
        if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        span.end();
      },
    };
  };

  return {
    start(name, startOptions = {}) {
      const parent = startOptions.parent === undefined ? ROOT_CONTEXT : contextFrom(startOptions.parent);
      return wrap(tracer.startSpan(name, { attributes: defined(startOptions.attributes) }, parent), parent);
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** The W3C context of the span in `context`, as header values. */
function contextOf(context: Context): TraceContext | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, { set: (c, key, value) => void (c[key] = value) });
  const traceparent = carrier['traceparent'];
  if (traceparent === undefined) return undefined;
  const tracestate = carrier['tracestate'];
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}

/** An OpenTelemetry context whose remote parent is `parent`. */
function contextFrom(parent: TraceContext): Context {
  const carrier: Record<string, string> = { traceparent: parent.traceparent };
  if (parent.tracestate !== undefined) carrier['tracestate'] = parent.tracestate;
  return propagator.extract(ROOT_CONTEXT, carrier, {
    get: (c, key) => c[key],
    keys: (c) => Object.keys(c),
  });
}

/** `attributes` without undefined values (the SDK warns about them). */
function defined(attributes: TraceAttributes | undefined): Attributes | undefined {
  if (attributes === undefined) return undefined;
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * `exporter`, telling `warn` (at most once a minute) when an export fails: the SDK itself is
 * silent unless a global diagnostic logger is installed.
 */
function warnOnFailure(exporter: SpanExporter, options: OtelTracingOptions): SpanExporter {
  let lastWarnAt = -Infinity;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      exporter.export(spans, (result) => {
        const now = Date.now();
        if (result.code !== ExportResultCode.SUCCESS && now - lastWarnAt >= WARN_EVERY_MS) {
          lastWarnAt = now;
          options.warn(
            `could not export ${spans.length} span(s) to ${options.url}: ${result.error?.message ?? 'export failed'}`,
          );
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
