import type { LogLineInfo } from '@pilotage/api';

/**
 * The lines of one task run's log as they arrive, in seq order, without duplicates (a resumed
 * stream may send a line again). A plain array grown in place: 100,000 lines cost one array,
 * and readers take `version` to know when to render again.
 */
export class LogLines {
  readonly lines: LogLineInfo[] = [];
  version = 0;

  /** Append lines; returns how many were new. */
  add(incoming: readonly LogLineInfo[]): number {
    let added = 0;
    for (const line of incoming) {
      const last = this.lines.at(-1);
      if (last !== undefined && line.seq <= last.seq) continue;
      this.lines.push(line);
      added += 1;
    }
    if (added > 0) this.version += 1;
    return added;
  }

  get lastSeq(): number {
    return this.lines.at(-1)?.seq ?? 0;
  }

  /** Indexes of the lines holding `query`, any case. */
  search(query: string): number[] {
    if (query === '') return [];
    const needle = query.toLowerCase();
    const out: number[] = [];
    for (let i = 0; i < this.lines.length; i += 1) {
      if (this.lines[i]!.line.toLowerCase().includes(needle)) out.push(i);
    }
    return out;
  }

  /** The whole log as text, one line each, for a download. */
  text(withTimes: boolean): string {
    return this.lines
      .map((l) => (withTimes ? `${new Date(l.at).toISOString()} ${l.stream} ${l.line}` : l.line))
      .join('\n');
  }
}

/** Which rows of a list of `count` rows of `rowHeight` px are visible in a viewport, with `overscan` rows around. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  count: number,
  overscan = 20,
): { start: number; end: number } {
  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { start, end: Math.max(start, end) };
}
