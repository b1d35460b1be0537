import { ValidationError } from '../domain/errors.js';

/** Where a store lives, decoded from its URL. */
export type StoreLocation =
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

/**
 * Decode a store URL: `postgres://…` or `postgresql://…` (passed to `pg` as is), `sqlite:PATH`
 * (also `sqlite://PATH`), `:memory:`, or else a plain file path. Throws `ValidationError` for an
 * empty string or a URL with another scheme (`mysql://…`).
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.trim() === '') throw new ValidationError('the store URL is empty');
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (/^sqlite:/i.test(url)) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path === '') throw new ValidationError(`the store URL ${url} names no file`);
    return { kind: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(url)) {
    throw new ValidationError(
      `unsupported store URL ${url.replace(/\/\/[^@/]*@/, '//***@')}: use a file path, sqlite:PATH, :memory: or postgres://…`,
    );
  }
  return { kind: 'sqlite', path: url };
}

/** A store URL fit for messages and status output: a PostgreSQL password replaced by `***`. */
export function redactStoreUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the given URL';
  }
}
