import Anser from 'anser';
import type { CSSProperties, ReactNode } from 'react';

/** The 16 basic colours anser names; they get theme-aware classes (styles.css). */
const BASIC = new Set(
  ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'].flatMap((c) => [
    `ansi-${c}`,
    `ansi-bright-${c}`,
  ]),
);

/** The RGB of xterm's 256-colour palette entry `n` (16–255; the first 16 are the basic colours). */
export function paletteRgb(n: number): string {
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const i = n - 16;
  const level = (x: number) => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
}

function colour(
  name: string | null,
  truecolor: string | null,
  kind: 'fg' | 'bg',
): { className?: string; css?: string } {
  if (truecolor) return { css: `rgb(${truecolor})` };
  if (name === null) return {};
  if (BASIC.has(name)) return { className: `${name}-${kind}` };
  const palette = /^ansi-palette-(\d+)$/.exec(name);
  if (palette) return { css: paletteRgb(Number(palette[1])) };
  return {};
}

/**
 * A log line with ANSI escapes as React elements (never as HTML): colours, bold, italic,
 * underline, dim. `highlight` marks each case-insensitive occurrence of a search text.
 */
export function AnsiLine({ text, highlight }: { readonly text: string; readonly highlight?: string }): ReactNode {
  if (!text.includes('\u001b')) return <Highlighted text={text} query={highlight} />;
  const parts = Anser.ansiToJson(text, { use_classes: true, remove_empty: true });
  return parts.map((part, i) => {
    const fg = colour(part.fg, part.fg_truecolor, 'fg');
    const bg = colour(part.bg, part.bg_truecolor, 'bg');
    const classes = [fg.className, bg.className, ...part.decorations.map((d) => `ansi-${d}`)].filter(Boolean);
    const style: CSSProperties = {};
    if (fg.css) style.color = fg.css;
    if (bg.css) style.backgroundColor = bg.css;
    return (
      <span key={i} className={classes.join(' ') || undefined} style={fg.css || bg.css ? style : undefined}>
        <Highlighted text={part.content} query={highlight} />
      </span>
    );
  });
}

/** `text` with every case-insensitive occurrence of `query` in a `<mark>`. */
export function Highlighted({
  text,
  query,
}: {
  readonly text: string;
  readonly query?: string | undefined;
}): ReactNode {
  if (!query) return text;
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const out: ReactNode[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    if (at > from) out.push(text.slice(from, at));
    out.push(<mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
  }
  if (out.length === 0) return text;
  if (from < text.length) out.push(text.slice(from));
  return out;
}

/** Escapes of a raw line made visible (`␛[31m`), for the raw view. */
export function visibleEscapes(text: string): string {
  return text.replaceAll('\u001b', '␛');
}
