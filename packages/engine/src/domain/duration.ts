import { ValidationError } from './errors.js';

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parse a duration such as `10m`, `1h30m`, `500ms`, `45s` or a bare number of seconds.
 * Returns milliseconds. Throws ValidationError on anything else.
 */
export function parseDurationMs(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new ValidationError(`invalid duration ${text}`);
    return Math.round(text * 1000);
  }
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(re)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (UNITS_MS[match[2] ?? ''] ?? 0);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new ValidationError(
      `invalid duration "${text}": expected a number with a unit, such as 500ms, 30s, 10m, 1h30m`,
    );
  }
  return Math.round(total);
}

/** Human form of a duration in ms: `850ms`, `12.3s`, `4m05s`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, '0')}s`;
}
