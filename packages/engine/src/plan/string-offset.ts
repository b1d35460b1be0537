import type { FieldPath } from './field-path.js';
import type { SourceDoc } from './source-doc.js';

/**
 * The file offset of character `index` of the string value at `path`, when it can be known
 * exactly; otherwise the start of the value (still the right line for one-line values).
 *
 * Plain and simply quoted scalars map one to one. For escaped or block scalars (`|`, `>`),
 * `${{` is searched in the raw text: the k-th `${{` of the value is the k-th of the raw text
 * when both hold the same number, and text that follows it verbatim maps too.
 */
export function fileOffset(source: SourceDoc, path: FieldPath, text: string, index: number): number {
  const span = source.valueSpan(path);
  if (span === undefined) return 0;
  const raw = source.text.slice(span.start, span.end);
  if (raw === text) return span.start + index;
  const quote = raw[0];
  if ((quote === '"' || quote === "'") && raw.slice(1, -1) === text) return span.start + 1 + index;
  const anchorInText = text.lastIndexOf('${{', index);
  if (anchorInText === -1) return span.start;
  const nth = countOccurrences(text.slice(0, anchorInText), '${{');
  if (countOccurrences(text, '${{') !== countOccurrences(raw, '${{')) return span.start;
  let anchorInRaw = -1;
  for (let i = 0; i <= nth; i++) anchorInRaw = raw.indexOf('${{', anchorInRaw + 1);
  if (anchorInRaw === -1) return span.start;
  const between = text.slice(anchorInText, index);
  return raw.startsWith(between, anchorInRaw) ? span.start + anchorInRaw + between.length : span.start + anchorInRaw;
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) count++;
  return count;
}
