import Fastify from 'fastify';
import { ConfigError } from '../domain/errors.js';
import type { CallbackRegistry } from './registry.js';
import { callbackRoutes } from './routes.js';

/** Options of `startCallbackServer`. */
export interface CallbackServerOptions {
  /** interface to listen on; default `127.0.0.1` (components of the local executor) */
  readonly host?: string;
  /** TCP port; default 0 (any free port) */
  readonly port?: number;
  readonly registry: CallbackRegistry;
}

/** A listening callback server. */
export interface CallbackServer {
  /** base URL, `http://127.0.0.1:PORT` (no trailing slash) */
  readonly url: string;
  /** Stop listening and close open connections. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Serve only the callback routes on their own port: for the embedded engine (`pilotage run`).
 * The API server mounts `callbackRoutes` itself instead. It never logs (URLs carry tokens).
 */
export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const host = options.host ?? '127.0.0.1';
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(callbackRoutes, { registry: options.registry });
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    await app.close();
    throw new ConfigError(
      `cannot serve component callbacks on ${host}:${options.port ?? 0}: ${(error as Error).message}`,
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    close: () => (closing ??= app.close().then(() => undefined)),
  };
}
