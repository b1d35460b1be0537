import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorReply } from './error-reply.js';

/** Longest request target (path and query) served, bytes; longer is 414 URI_TOO_LONG. */
export const MAX_URL_BYTES = 8 * 1024;

/**
 * An `onRequest` hook answering 414 URI_TOO_LONG for a request target over MAX_URL_BYTES,
 * before any route (or token check) looks at it. A target over Node's header limit (16 KiB with
 * the headers) never gets this far: `clientErrorHandler` answers it 431.
 */
export async function refuseLongUrls(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const length = Buffer.byteLength(request.raw.url ?? '', 'utf8');
  if (length <= MAX_URL_BYTES) return;
  await reply.code(414).send({
    code: 'URI_TOO_LONG',
    message: `the URL is ${length} bytes, over the ${MAX_URL_BYTES} this server reads; send large values in a request body`,
  } satisfies ErrorReply);
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request, answered in the API's error
 * shape (`{code, message}`) instead of Fastify's default: 431 HEADERS_TOO_LARGE (headers and URL
 * over Node's limit), 408 REQUEST_TIMEOUT, otherwise 400 BAD_REQUEST. Fastify's
 * `clientErrorHandler` option (called with the Fastify instance as `this`). The error is logged
 * at trace level, as Fastify does; the raw bytes are never echoed, and the log serializer drops
 * them (logger-options.ts).
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.trace({ err: error }, 'client error');
  const [status, body]: [number, ErrorReply] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          {
            code: 'HEADERS_TOO_LARGE',
            message:
              'the request line and headers are over the 16 KiB this server reads; send fewer or smaller headers',
          },
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, { code: 'REQUEST_TIMEOUT', message: 'the request was not received in time' }]
        : [400, { code: 'BAD_REQUEST', message: 'the request is not valid HTTP' }];
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}
