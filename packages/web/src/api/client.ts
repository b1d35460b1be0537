import { ApiError, createFetchClient, CSRF_HEADER, type ArgsOf, type ReplyOf, type RouteSpec } from '@pilotage/api';

/**
 * The UI's client of the API. Requests go to the page's own origin with the session cookie
 * (HttpOnly: the page never sees it); writes carry the session's CSRF token, which the UI keeps
 * in memory only (GET /v1/session gives it again after a reload).
 */
let csrf: string | undefined;

/** Set (after sign-in or GET /v1/session) or clear (sign-out) the CSRF token writes carry. */
export function setCsrf(token: string | undefined): void {
  csrf = token;
}

const client = createFetchClient({
  headers: (): Record<string, string> => (csrf === undefined ? {} : { [CSRF_HEADER]: csrf }),
});

/** Listeners told when the server answers 401: the session ended. */
const unauthorized = new Set<() => void>();

/** Call `fn` whenever a request is refused for want of a session. Returns the way to stop. */
export function onUnauthorized(fn: () => void): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

/** Call a route of the API; rejects with ApiError (the server's code and message). */
export async function call<R extends RouteSpec>(
  spec: R,
  args: ArgsOf<R>,
  init?: { signal?: AbortSignal },
): Promise<ReplyOf<R>> {
  try {
    return await client.call(spec, args, init);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && spec.path !== '/v1/session') {
      for (const fn of unauthorized) fn();
    }
    throw error;
  }
}

/** What to show of any error: the server's message, else the error's own. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export { ApiError };
