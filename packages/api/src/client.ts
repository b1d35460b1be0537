import { routePath, type ArgsOf, type ReplyOf, type RouteSpec } from './route.js';

/** An error answer of the API: its HTTP status, stable code, message and details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** How a fetch client reaches the server. */
export interface FetchClientOptions {
  /** prefix of every path; '' (the default) means the page's own origin */
  readonly baseUrl?: string;
  /** the fetch to use (default the global one) */
  readonly fetch?: typeof fetch;
  /** headers added to every request, read at each call (an Authorization or CSRF header) */
  readonly headers?: () => Record<string, string>;
}

/** A typed client over `fetch`: `call(routes.getRun, { params: { id } })` answers a `RunDetail`. */
export interface FetchClient {
  call<R extends RouteSpec>(spec: R, args: ArgsOf<R>, init?: { signal?: AbortSignal }): Promise<ReplyOf<R>>;
}

/**
 * A client of the API over `fetch` (browsers, Node 20+). A body that is a string is sent as
 * `application/yaml` (workflow and component files), anything else as JSON. A 4xx/5xx answer
 * rejects with an ApiError holding the server's code and message (or the status text when the
 * answer is not the API's error JSON); a network failure rejects with ApiError UNAVAILABLE.
 */
export function createFetchClient(options: FetchClientOptions = {}): FetchClient {
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');
  return {
    async call(spec, args, init = {}) {
      const { params, query, body } = args as {
        params?: Record<string, string | number>;
        query?: Record<string, string | number | boolean | undefined>;
        body?: unknown;
      };
      const headers: Record<string, string> = { accept: 'application/json', ...(options.headers?.() ?? {}) };
      let payload: string | undefined;
      if (body !== undefined) {
        headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const doFetch = options.fetch ?? fetch;
      let response: Response;
      try {
        response = await doFetch(base + routePath(spec, params, query), {
          method: spec.method,
          headers,
          ...(payload === undefined ? {} : { body: payload }),
          ...(init.signal ? { signal: init.signal } : {}),
          credentials: 'same-origin',
        });
      } catch (error) {
        if ((error as { name?: string }).name === 'AbortError') throw error;
        throw new ApiError(0, 'UNAVAILABLE', `cannot reach the server: ${(error as Error).message}`);
      }
      const text = await response.text();
      if (!response.ok) throw errorOf(response.status, response.statusText, text);
      return (text === '' ? undefined : JSON.parse(text)) as ReplyOf<typeof spec>;
    },
  };
}

/** The ApiError of an error answer: the server's `{code, message, details}`, else its status. */
export function errorOf(status: number, statusText: string, text: string): ApiError {
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string') {
      return new ApiError(status, parsed.code, parsed.message, parsed.details);
    }
  } catch {
    // not the API's JSON: reported by status below
  }
  const shown = text.trim().slice(0, 300);
  return new ApiError(status, status === 401 ? 'UNAUTHORIZED' : 'HTTP_ERROR', shown || `${status} ${statusText}`);
}
