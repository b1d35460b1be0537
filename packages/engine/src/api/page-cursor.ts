import { invalidFields } from './error-reply.js';

/**
 * Opaque page cursors (`nextCursor` → `cursor`): `kind:value` in base64url, so a cursor of one
 * list is refused by another. `kind` names the list (`runs`, `transitions`).
 */
export function encodeCursor(kind: string, value: string): string {
  return Buffer.from(`${kind}:${value}`, 'utf8').toString('base64url');
}

/** The value of a cursor `encodeCursor(kind, …)` made; 400 naming `querystring.cursor` otherwise. */
export function decodeCursor(kind: string, cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${kind}:`;
  if (!text.startsWith(prefix) || text.length === prefix.length) {
    throw invalidFields([
      {
        field: 'querystring.cursor',
        message: 'is not a cursor this server gave (use nextCursor of the previous page)',
      },
    ]);
  }
  return text.slice(prefix.length);
}
