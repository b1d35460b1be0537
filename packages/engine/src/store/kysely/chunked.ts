/**
 * Split `items` into consecutive slices of at most `size`, so a multi-row insert stays under
 * the bound-parameter limits (SQLite 32766, PostgreSQL 65535) whatever the batch length.
 */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
