import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { routePath, type ArgsOf, type ReplyOf, type RouteSpec } from '@pilotage/api';
import { isErrorCode, PilotageError } from '../domain/errors.js';

/** A client of a Pilotage server's HTTP API (which server and token: see with-server.ts). */
export interface ApiClient {
  readonly server: string;
  /**
   * Send a request; resolves with the parsed JSON answer (undefined for 204). A 4xx/5xx answer
   * throws a PilotageError with the server's code, message and details.
   */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** `request` of a route of the contract (@pilotage/api): what it sends and answers is typed. */
  call<R extends RouteSpec>(spec: R, args: ArgsOf<R>): Promise<ReplyOf<R>>;
  /** Open a streaming GET (SSE); resolves with the response once headers arrived (status 200). */
  stream(path: string, headers?: Record<string, string>): Promise<NodeJS.ReadableStream>;
}

/**
 * A client of `server` sending `token` as a bearer token (if given), and `headers` with every
 * request (the caller's trace context).
 */
export function createApiClient(
  server: string,
  token: string | undefined,
  headers: Readonly<Record<string, string>> = {},
): ApiClient {
  const always = headers;
  const base = server.replace(/\/+$/, '');
  const open = (
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const url = new URL(base + path);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method,
          headers: {
            accept: 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...always,
            ...headers,
          },
        },
        resolve,
      );
      req.on('error', (error) =>
        reject(new PilotageError('UNAVAILABLE', `cannot reach ${base}: ${error.message}`, { cause: error })),
      );
      req.end(body);
    });
  const fail = (status: number, text: string): PilotageError => {
    let code = status === 401 ? 'UNAUTHORIZED' : 'INTERNAL';
    let message = `${status} from server`;
    let details: unknown;
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string; details?: unknown };
      if (parsed.code) code = parsed.code;
      if (parsed.message) message = parsed.message;
      details = parsed.details;
    } catch {
      if (text.trim() !== '') message = `${status}: ${text.trim().slice(0, 300)}`;
    }
    return new PilotageError(isErrorCode(code) ? code : 'INTERNAL', message, { details });
  };
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await open(method, path, body === undefined ? undefined : JSON.stringify(body), {});
    const text = await readText(res);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw fail(status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    server: base,
    request,
    call(spec, args) {
      const { params, query, body } = args as {
        params?: Record<string, string | number>;
        query?: Record<string, string | number | boolean | undefined>;
        body?: unknown;
      };
      return request(spec.method, routePath(spec, params, query), body);
    },
    async stream(path, headers = {}) {
      const res = await open('GET', path, undefined, { accept: 'text/event-stream', ...headers });
      const status = res.statusCode ?? 0;
      if (status >= 400) throw fail(status, await readText(res));
      return res;
    },
  };
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
