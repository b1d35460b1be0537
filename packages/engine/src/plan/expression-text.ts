/** A piece of a string value: plain text, or one `${{ … }}` expression. */
export type TextSegment =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'expression';
      /** the CEL source, trimmed */
      readonly source: string;
      /** offset of `${{` in the string */
      readonly start: number;
      /** offset of the trimmed CEL source in the string */
      readonly sourceStart: number;
    };

/** Why a string could not be split: what, and at which offset of the string. */
export interface SplitError {
  readonly message: string;
  readonly offset: number;
}

const OPEN = '${{';
const CLOSE = '}}';

/** Does the string hold at least one `${{`? */
export function hasExpression(text: string): boolean {
  return text.includes(OPEN);
}

/**
 * Split a string into text and `${{ … }}` expressions. The closing `}}` is searched outside CEL
 * string literals, so `${{ "}}" }}` is one expression. An unterminated or empty expression is
 * an error (nothing is guessed).
 */
export function splitExpressions(text: string): TextSegment[] | SplitError {
  const segments: TextSegment[] = [];
  let cursor = 0;
  while (cursor < text.length) {
    const start = text.indexOf(OPEN, cursor);
    if (start === -1) break;
    if (start > cursor) segments.push({ kind: 'text', text: text.slice(cursor, start) });
    const end = findClose(text, start + OPEN.length);
    if (end === -1) return { message: 'unterminated expression: "${{" without a closing "}}"', offset: start };
    const inner = text.slice(start + OPEN.length, end);
    const source = inner.trim();
    if (source === '') return { message: 'empty expression "${{ }}"', offset: start };
    const sourceStart = start + OPEN.length + (inner.length - inner.trimStart().length);
    segments.push({ kind: 'expression', source, start, sourceStart });
    cursor = end + CLOSE.length;
  }
  if (cursor < text.length) segments.push({ kind: 'text', text: text.slice(cursor) });
  return segments;
}

/** Offset of the `}}` that closes an expression starting at `from`, skipping string literals. */
function findClose(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const char = text[i];
    if (char === '"' || char === "'") {
      i = skipString(text, i);
      continue;
    }
    if (text.startsWith(CLOSE, i)) return i;
    i++;
  }
  return -1;
}

function skipString(text: string, at: number): number {
  const quote = text[at] ?? '"';
  const raw = at > 0 && /[rR]/.test(text[at - 1] ?? '') && !/[A-Za-z0-9_]/.test(text[at - 2] ?? '');
  const delimiter = text.startsWith(quote.repeat(3), at) ? quote.repeat(3) : quote;
  let i = at + delimiter.length;
  while (i < text.length) {
    if (!raw && text[i] === '\\') {
      i += 2;
      continue;
    }
    if (text.startsWith(delimiter, i)) return i + delimiter.length;
    i++;
  }
  return text.length;
}
