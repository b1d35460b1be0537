/**
 * A plain-text table: the first row is the header, columns are padded to their widest cell,
 * text columns left-aligned and number-like columns (a cell starting with a digit, sign or
 * `x`-ratio) right-aligned. Returns the lines, without a trailing newline.
 * @param {readonly (readonly string[])[]} rows
 * @returns {string}
 */
export function formatTable(rows) {
  const widths = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const numeric = widths.map((_, i) => rows.slice(1).every((row) => /^[-+]?[\d.]/.test(row[i] ?? '')));
  const line = (row) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0] ?? []), rule, ...rows.slice(1).map(line)].join('\n');
}

/** `value` with `digits` decimals (default 2). */
export function fixed(value, digits = 2) {
  return value.toFixed(digits);
}
