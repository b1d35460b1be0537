import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ConfigError } from '../domain/errors.js';
import { answerCallback, CALLBACK_BODY_LIMIT_BYTES, NOT_FOUND } from './callback-answers.js';
import type { CallbackRegistry } from './registry.js';
import type { CallbackAnswer, CallbackReply } from './session.js';

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

const ROUTE = /^\/v1\/callbacks\/([^/?#]+)\/([^/?#]+)(?:[?#].*)?$/;

/**
 * Serve only the callback routes on their own port: for the embedded engine (`pilotage run`).
 * A plain `node:http` server answering as the API server's Fastify routes do (routes.ts; both
 * through callback-answers.ts): bodies read as text whatever their content type, at most 1 MiB
 * (413 `BODY_TOO_LARGE`), the same silent 404 for any other path or method. It never logs
 * (URLs carry tokens). Plain, because a one-action `pilotage run` should not load and start a
 * web framework for six routes.
 */
export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    handle(options.registry, request).then(
      (answer) => reply(response, answer),
      () => reply(response, { status: 500, body: { ok: false, code: 'INTERNAL', message: 'internal error' } }),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new ConfigError(
      `cannot serve component callbacks on ${host}:${options.port ?? 0}: ${(error as Error).message}`,
    );
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      (closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

type Answer = CallbackAnswer | { readonly status: 200; readonly json: string } | TooLarge;
type TooLarge = { readonly status: 413; readonly body: CallbackReply };

async function handle(registry: CallbackRegistry, request: IncomingMessage): Promise<Answer> {
  const match = ROUTE.exec(request.url ?? '');
  const method = request.method;
  if (match === null || (method !== 'POST' && method !== 'GET')) {
    request.resume();
    return NOT_FOUND;
  }
  const [, token, step] = match as unknown as [string, string, string];
  let raw: string | undefined;
  if (method === 'POST') {
    const body = await readBody(request);
    if (body === undefined) {
      return {
        status: 413,
        body: {
          ok: false,
          code: 'BODY_TOO_LARGE',
          message: `the body is larger than ${CALLBACK_BODY_LIMIT_BYTES} bytes`,
        },
      };
    }
    raw = body;
  } else {
    request.resume();
  }
  return answerCallback(registry, method, decodeURIComponent(token), decodeURIComponent(step), raw);
}

/** The body as text, or undefined once it passes the limit (the rest is drained, not kept). */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > CALLBACK_BODY_LIMIT_BYTES) {
      chunks.length = 0;
      continue;
    }
    chunks.push(chunk as Buffer);
  }
  return size > CALLBACK_BODY_LIMIT_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

function reply(response: ServerResponse, answer: Answer): void {
  const text = 'json' in answer ? answer.json : JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
