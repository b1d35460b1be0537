import type { Config } from '../config/config.js';
import { NO_TRACING, type Tracing } from '../engine/ports.js';

/** The tracing an engine uses, and how to flush and stop it. */
export interface LoadedTracing {
  readonly tracing: Tracing;
  /** export what is left and stop (safe to repeat) */
  close(): Promise<void>;
}

/**
 * The tracing `config` asks for: OTLP/HTTP export to `<otelEndpoint>/v1/traces`, or none. The
 * OpenTelemetry modules are imported only when an endpoint is set, so an engine that traces
 * nothing neither loads nor pays for them.
 */
export async function loadTracing(config: Config, warn: (message: string) => void): Promise<LoadedTracing> {
  if (config.otelEndpoint === undefined) return { tracing: NO_TRACING, close: () => Promise.resolve() };
  const { createOtelTracing } = await import('./otel-tracing.js');
  const tracing = createOtelTracing({
    url: `${config.otelEndpoint}/v1/traces`,
    serviceName: config.otelServiceName,
    instanceId: config.engineId,
    warn,
  });
  let closed: Promise<void> | undefined;
  return { tracing, close: () => (closed ??= tracing.shutdown()) };
}
