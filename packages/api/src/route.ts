import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { ScopeName } from './common.js';

/** HTTP methods the API uses. */
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * One route of the API: what the server registers (its plugin takes these schemas as they are)
 * and what a typed client sends and reads. `response` holds the success answers only; the
 * server adds its error answers (`{code, message, details?}`). `events` describes the
 * Server-Sent Events of a streaming route instead of a JSON answer.
 */
export interface RouteSpec {
  readonly method: Method;
  /** the full path, `:name` for a parameter: `/v1/runs/:id` */
  readonly path: string;
  /** the API token scope it needs (`public`: none) */
  readonly scope: ScopeName | 'public';
  readonly params?: TObject;
  readonly querystring?: TObject;
  readonly body?: TSchema;
  readonly response: Readonly<Record<number, TSchema>>;
  readonly events?: Readonly<Record<string, TSchema>>;
}

/** Declare a route, keeping its literal types (so clients infer what it takes and answers). */
export function route<const R extends RouteSpec>(spec: R): R {
  return spec;
}

type StaticOf<S> = S extends TSchema ? Static<S> : never;

/** What a call of route `R` sends: `params`, `query` (every field optional: the server fills defaults), `body`. */
export type ArgsOf<R extends RouteSpec> = (R extends { params: TObject }
  ? { params: StaticOf<R['params']> }
  : unknown) &
  (R extends { querystring: TObject } ? { query?: Partial<StaticOf<R['querystring']>> } : unknown) &
  (R extends { body: TSchema } ? { body: StaticOf<R['body']> } : unknown);

/** What a call of route `R` answers on success. */
export type ReplyOf<R extends RouteSpec> = {
  [K in keyof R['response']]: StaticOf<R['response'][K]>;
}[keyof R['response']];

/**
 * The URL path of a call: parameters substituted (URI-encoded), the query appended (fields that
 * are undefined left out). Throws when a parameter is missing.
 */
export function routePath(
  spec: Pick<RouteSpec, 'path'>,
  params: Readonly<Record<string, string | number>> = {},
  query: Readonly<Record<string, string | number | boolean | undefined>> = {},
): string {
  const path = spec.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${spec.path}: parameter ${name} is missing`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}
