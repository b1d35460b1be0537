/**
 * A fast reader for the YAML that workflow and component files are almost always written in:
 * block mappings and sequences, one-line plain and quoted scalars, one-line flow collections
 * (a whole JSON document too), literal and folded block scalars, comments, and a `---` line
 * before it all. It answers exactly what the full YAML 1.2 parser (`yaml`, core schema) answers,
 * values and positions alike, or `undefined` the moment the text uses anything else: anchors,
 * aliases, tags, `?` keys, multi-line plain or quoted scalars, tabs, CRLF line ends, several
 * documents, a duplicate or forbidden key, any syntax error. The caller then reads the text
 * with the full parser, which also reports every problem; this reader never reports one. (One
 * difference, which nothing reads: a block collection's span ends with its last value, where
 * the parser's also covers the more indented comment lines after it.)
 *
 * Why: the full parser took ~half of a 10,000-action compile (~0.5 s of ~1.1 s) and ~0.1 ms of
 * each step of a 100-action `pilotage run` (bench/README.md, "Session 15"); this reader is 5–9x
 * faster, and a file it reads never loads the full parser. `common-yaml.test.ts` checks it
 * against the full parser on every YAML file of the repository and on generated documents.
 */
import { FORBIDDEN_KEYS, MAX_JSON_DEPTH } from '../domain/json-text.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { ESCAPES, fold, plainValue } from './common-yaml-scalars.js';
import { childPathKey, pathKey } from './field-path.js';
import type { Location, Span } from './source-span.js';

/** The converted tree and where each value (and key) of it was written, keyed by `pathKey`. */
export interface CommonYaml {
  readonly value: JsonValue;
  readonly locations: Map<string, Location>;
}

/** Tabs, CR, control characters, the byte-order mark and Unicode line ends: left to the parser. */
// eslint-disable-next-line no-control-regex -- these are the characters it looks for
const UNUSUAL_CHARACTER = /[\x00-\x09\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff]/;

/** The root's `pathKey`. */
const ROOT = pathKey([]);

/** Thrown inside the reader when the text leaves the common subset; never escapes it. */
const UNCOMMON = Symbol('uncommon YAML');

// implicit keys longer than this are an error in YAML (1,024 characters): leave them to the parser
const MAX_KEY_LENGTH = 1000;

const NEWLINE = 10;
const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const COMMA = 44;
const PIPE = 124;
const GREATER = 62;

/** Characters that cannot start a plain scalar (or that this reader leaves to the parser). */
const NOT_PLAIN_START = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));

/**
 * Read `text` if it is in the common subset; `undefined` otherwise (read it with the full
 * parser). `maxValues` caps the values read, as the full path does.
 */
export function readCommonYaml(text: string, maxValues: number): CommonYaml | undefined {
  if (UNUSUAL_CHARACTER.test(text)) return undefined;
  try {
    return new Reader(text, maxValues).document();
  } catch (error) {
    if (error === UNCOMMON) return undefined;
    throw error;
  }
}

function uncommon(): never {
  throw UNCOMMON;
}

/** A plain scalar's value; `.inf` and `.nan` (not JSON) are left to the parser, which reports them. */
function resolvedPlain(source: string): JsonValue {
  const value = plainValue(source);
  return value === undefined ? uncommon() : value;
}

class Reader {
  readonly locations = new Map<string, Location>();
  #count = 0;
  /** the next line to read starts here */
  #pos = 0;
  /** set by `#peek`: where the content of the next content line starts, and its indentation */
  #content = -1;
  #indent = 0;
  /** the line `#peek` last looked from, and its answer (`#content` and `#indent` are its too) */
  #peekedFrom = -1;
  #peeked = false;
  /** set by `#flow`: where the flow node it read ends */
  #flowEnd = 0;
  /** set by `#key`: the key's name and where it ends */
  #keyName = '';
  #keyEnd = 0;
  /**
   * Where the block node just read ends: the end of its last value (a block collection's end,
   * unlike its start, may differ from the parser's, which also counts the comment lines that
   * follow it at a deeper indentation; nothing reads a collection's end).
   */
  #end = 0;

  constructor(
    private readonly text: string,
    private readonly maxValues: number,
  ) {}

  document(): CommonYaml {
    if (!this.#peek(this.#afterDocumentStart()) || this.#indent !== 0) uncommon();
    const at = this.#content;
    const first = this.text.charCodeAt(at);
    let value: JsonValue;
    if (first === OPEN_BRACKET || first === OPEN_BRACE) {
      value = this.#flow(at, ROOT, 0, undefined, true);
      this.#pos = this.#endOfLine(this.#flowEnd);
    } else if (this.#isSequenceEntry(at)) {
      value = this.#blockSequence(0, at, ROOT, 0, undefined);
    } else {
      value = this.#blockMapping(0, at, ROOT, 0, undefined);
    }
    if (this.#peek(this.#pos)) uncommon();
    return { value, locations: this.locations };
  }

  /** Where the document's content may start: after a first `---` line (nothing else on it but a comment). */
  #afterDocumentStart(): number {
    const text = this.text;
    let line = 0;
    while (line < text.length) {
      let at = line;
      while (text.charCodeAt(at) === SPACE) at++;
      const c = text.charCodeAt(at);
      if (c === NEWLINE) line = at + 1;
      else if (c === HASH) line = this.#afterLine(at);
      else if (at === line && text.startsWith('---', at) && this.#separates(at + 3)) return this.#endOfLine(at + 3);
      else return 0;
    }
    return 0;
  }

  // ---- lines -----------------------------------------------------------------------------

  /**
   * Skip blank and comment-only lines from the line starting at `from`: true if a content line
   * follows (its content start and indentation are then in `#content` and `#indent`).
   */
  #peek(from: number): boolean {
    // each collection that ends looks again from the same line: answer that from memory, or
    // the blank lines after a deeply nested value are scanned once per level
    if (from === this.#peekedFrom) return this.#peeked;
    const answer = this.#look(from);
    this.#peekedFrom = from;
    this.#peeked = answer;
    return answer;
  }

  #look(from: number): boolean {
    const text = this.text;
    let line = from;
    while (line < text.length) {
      let at = line;
      while (text.charCodeAt(at) === SPACE) at++;
      if (at >= text.length) return false;
      const c = text.charCodeAt(at);
      if (c === NEWLINE) {
        line = at + 1;
        continue;
      }
      if (c === HASH) {
        line = this.#afterLine(at);
        continue;
      }
      this.#content = at;
      this.#indent = at - line;
      // a document marker (`---`, `...`) at the start of a line
      if (this.#indent === 0 && (text.startsWith('---', at) || text.startsWith('...', at))) {
        const next = text.charCodeAt(at + 3);
        if (at + 3 >= text.length || next === SPACE || next === NEWLINE) uncommon();
      }
      return true;
    }
    return false;
  }

  /** The start of the line after the one holding `at` (the text's length on the last line). */
  #afterLine(at: number): number {
    const newline = this.text.indexOf('\n', at);
    return newline === -1 ? this.text.length : newline + 1;
  }

  /** After a value ending at `end`: only spaces and a comment may follow on its line. */
  #endOfLine(end: number): number {
    const text = this.text;
    let at = end;
    while (text.charCodeAt(at) === SPACE) at++;
    if (at >= text.length) return text.length;
    const c = text.charCodeAt(at);
    if (c === NEWLINE) return at + 1;
    if (c === HASH && at > end) return this.#afterLine(at);
    return uncommon();
  }

  #isSequenceEntry(at: number): boolean {
    if (this.text.charCodeAt(at) !== DASH) return false;
    const next = this.text.charCodeAt(at + 1);
    return at + 1 >= this.text.length || next === SPACE || next === NEWLINE;
  }

  // ---- recording -------------------------------------------------------------------------

  /** `path` is the value's `pathKey`, `depth` its length. */
  #record(path: string, depth: number, value: Span, key: Span | undefined): void {
    if (++this.#count > this.maxValues || depth > MAX_JSON_DEPTH) uncommon();
    this.locations.set(path, key === undefined ? { value } : { value, key });
  }

  /** A collection's location again, now that its end is known. */
  #close(pathText: string, value: Span, key: Span | undefined): void {
    this.locations.set(pathText, key === undefined ? { value } : { value, key });
  }

  // ---- block collections -----------------------------------------------------------------

  /** A block node that starts on its own line at `at` (indentation `indent`). */
  #blockNode(indent: number, at: number, path: string, depth: number, key: Span | undefined): JsonValue {
    if (this.#isSequenceEntry(at)) return this.#blockSequence(indent, at, path, depth, key);
    return this.#blockMapping(indent, at, path, depth, key);
  }

  /** A block mapping whose first key is at `at`, its keys at column `indent`. */
  #blockMapping(indent: number, at: number, path: string, depth: number, key: Span | undefined): JsonValue {
    const text = this.text;
    const out: Record<string, JsonValue> = {};
    // recorded first (the order of the map does not matter; the span's end is set at the close)
    const start = at;
    this.#record(path, depth, { start, end: start }, key);
    let keyAt = at;
    for (;;) {
      const colon = this.#key(keyAt, out, false, false);
      const name = this.#keyName;
      const keyEnd = this.#keyEnd;
      const keySpan = { start: keyAt, end: keyEnd };
      const childPath = childPathKey(path, name);
      let valueAt = colon + 1;
      while (text.charCodeAt(valueAt) === SPACE) valueAt++;
      const v = text.charCodeAt(valueAt);
      if (valueAt >= text.length || v === NEWLINE || v === HASH) {
        // the value is on the lines below, or there is none
        const next = this.#afterLine(valueAt);
        const below = this.#peek(next);
        if (below && this.#indent > indent) {
          out[name] = this.#blockNode(this.#indent, this.#content, childPath, depth + 1, keySpan);
        } else if (below && this.#indent === indent && this.#isSequenceEntry(this.#content)) {
          out[name] = this.#blockSequence(indent, this.#content, childPath, depth + 1, keySpan);
        } else {
          // no value: null, written where the line's content after the colon starts
          this.#record(childPath, depth + 1, { start: valueAt, end: valueAt }, keySpan);
          out[name] = null;
          this.#pos = next;
          this.#end = valueAt;
        }
      } else {
        out[name] = this.#inlineValue(valueAt, indent, childPath, depth + 1, keySpan);
      }
      if (!this.#peek(this.#pos) || this.#indent < indent) break;
      if (this.#indent > indent || this.#isSequenceEntry(this.#content)) uncommon();
      keyAt = this.#content;
    }
    this.#close(path, { start, end: this.#end }, key);
    return out;
  }

  /** A block sequence whose first `-` is at `at`, its entries at column `indent`. */
  #blockSequence(indent: number, at: number, path: string, depth: number, key: Span | undefined): JsonValue {
    const text = this.text;
    const items: JsonValue[] = [];
    const start = at;
    this.#record(path, depth, { start, end: start }, key);
    let dash = at;
    for (;;) {
      const childPath = childPathKey(path, items.length);
      let itemAt = dash + 1;
      while (text.charCodeAt(itemAt) === SPACE) itemAt++;
      const c = text.charCodeAt(itemAt);
      if (itemAt >= text.length || c === NEWLINE || c === HASH) {
        if (!this.#peek(this.#afterLine(itemAt)) || this.#indent <= indent) uncommon();
        items.push(this.#blockNode(this.#indent, this.#content, childPath, depth + 1, undefined));
      } else if (this.#isSequenceEntry(itemAt)) {
        uncommon();
      } else if (this.#startsCompactMapping(itemAt)) {
        items.push(this.#blockMapping(itemAt - (dash - indent), itemAt, childPath, depth + 1, undefined));
      } else {
        items.push(this.#inlineValue(itemAt, indent, childPath, depth + 1, undefined));
      }
      if (!this.#peek(this.#pos) || this.#indent < indent) break;
      if (this.#indent > indent) uncommon();
      if (!this.#isSequenceEntry(this.#content)) break;
      dash = this.#content;
    }
    this.#close(path, { start, end: this.#end }, key);
    return items;
  }

  /**
   * The key at `keyAt` of a block or flow mapping: its colon (its name and end go into `#keyName`
   * and `#keyEnd`). A quoted key (its `:` may touch the next character in a flow mapping) or a
   * plain one; a duplicate of a key of `out`, a forbidden or an overlong key is left to the parser.
   */
  #key(keyAt: number, out: Record<string, JsonValue>, flow: boolean, multiline: boolean): number {
    const text = this.text;
    let name: string;
    let end: number;
    let colon: number;
    const c = text.charCodeAt(keyAt);
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
      const quoted = this.#quoted(keyAt);
      name = quoted.value;
      end = quoted.end;
      colon = end;
      while (text.charCodeAt(colon) === SPACE) colon++;
      if (text.charCodeAt(colon) !== COLON || (!flow && !this.#separates(colon + 1))) uncommon();
    } else if (flow) {
      end = this.#flowPlainEnd(keyAt);
      name = text.slice(keyAt, end);
      colon = end;
      while (text.charCodeAt(colon) === SPACE) colon++;
      const after = text.charCodeAt(colon + 1);
      if (text.charCodeAt(colon) !== COLON || !(after === SPACE || (multiline && after === NEWLINE))) uncommon();
    } else {
      if (!this.#plainStart(keyAt)) uncommon();
      colon = this.#keyColon(keyAt);
      end = colon;
      while (text.charCodeAt(end - 1) === SPACE) end--;
      name = text.slice(keyAt, end);
    }
    if (end - keyAt > MAX_KEY_LENGTH || FORBIDDEN_KEYS.has(name) || Object.hasOwn(out, name)) uncommon();
    this.#keyName = name;
    this.#keyEnd = end;
    return colon;
  }

  /** Whether the entry at `at` (after `- `) is a `key: value` line. */
  #startsCompactMapping(at: number): boolean {
    const text = this.text;
    const c = text.charCodeAt(at);
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
      let after = this.#quoted(at).end;
      while (text.charCodeAt(after) === SPACE) after++;
      return text.charCodeAt(after) === COLON && this.#separates(after + 1);
    }
    if (!this.#plainStart(at)) return false;
    for (let i = at; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === NEWLINE) return false;
      if (ch === HASH && text.charCodeAt(i - 1) === SPACE) return false;
      if (ch === COLON && this.#separates(i + 1)) return true;
    }
    return false;
  }

  /** The `:` ending the plain key at `at` (on the same line, before any comment). */
  #keyColon(at: number): number {
    const text = this.text;
    for (let i = at; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === NEWLINE || (ch === HASH && text.charCodeAt(i - 1) === SPACE)) break;
      if (ch === COLON && this.#separates(i + 1)) return i;
    }
    return uncommon();
  }

  /** Whether a `:` followed by the character at `at` is a mapping's separator (block context). */
  #separates(at: number): boolean {
    const c = this.text.charCodeAt(at);
    return at >= this.text.length || c === SPACE || c === NEWLINE;
  }

  #plainStart(at: number): boolean {
    const c = this.text.charCodeAt(at);
    if (c === SPACE || c === NEWLINE || Number.isNaN(c)) return false;
    if (!NOT_PLAIN_START.has(c)) return true;
    // `-1`, `--flag`: a dash followed by a character that is not a space (nor, to keep flow
    // collections simple, a flow indicator) starts a plain scalar
    if (c !== DASH) return false;
    const next = this.text.charCodeAt(at + 1);
    if (Number.isNaN(next) || next === SPACE || next === NEWLINE || next === COMMA) return false;
    return !(next === OPEN_BRACKET || next === CLOSE_BRACKET || next === OPEN_BRACE || next === CLOSE_BRACE);
  }

  // ---- values on the line of their key or dash ------------------------------------------

  /**
   * A value that starts at `at` on its key's (or dash's) line, inside a block collection at
   * column `indent`. Leaves `#pos` at the next line; a more indented line below it would
   * continue it (a multi-line scalar): left to the parser.
   */
  #inlineValue(at: number, indent: number, path: string, depth: number, key: Span | undefined): JsonValue {
    const text = this.text;
    const c = text.charCodeAt(at);
    let value: JsonValue;
    if (c === PIPE || c === GREATER) return this.#blockScalar(at, indent, path, depth, key);
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
      const quoted = this.#quoted(at);
      this.#record(path, depth, { start: at, end: quoted.end }, key);
      value = quoted.value;
      this.#pos = this.#endOfLine(quoted.end);
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      value = this.#flow(at, path, depth, key, false);
      this.#pos = this.#endOfLine(this.#flowEnd);
    } else {
      if (!this.#plainStart(at)) uncommon();
      let end = at;
      for (; end < text.length; end++) {
        const ch = text.charCodeAt(end);
        if (ch === NEWLINE || (ch === HASH && text.charCodeAt(end - 1) === SPACE)) break;
        if (ch === COLON && this.#separates(end + 1)) uncommon();
      }
      this.#pos = end < text.length ? this.#afterLine(end) : text.length;
      while (text.charCodeAt(end - 1) === SPACE) end--;
      this.#record(path, depth, { start: at, end }, key);
      value = resolvedPlain(text.slice(at, end));
    }
    this.#end = this.#pos;
    if (this.#peek(this.#pos) && this.#indent > indent) uncommon();
    return value;
  }

  /** A literal (`|`) or folded (`>`) block scalar whose indicator is at `at`. */
  #blockScalar(at: number, indent: number, path: string, depth: number, key: Span | undefined): JsonValue {
    const text = this.text;
    const folded = text.charCodeAt(at) === GREATER;
    let header = at + 1;
    let strip = false;
    if (text.charCodeAt(header) === DASH) {
      strip = true;
      header++;
    }
    // keep (`+`) and explicit indentation (`|2`) are left to the parser
    const first = this.#endOfLine(header);
    // the content's indentation is its first line's, which must not be blank (blank lines first
    // are left to the parser) and must be deeper than the collection's
    let contentIndent = 0;
    while (text.charCodeAt(first + contentIndent) === SPACE) contentIndent++;
    const firstContent = text.charCodeAt(first + contentIndent);
    if (Number.isNaN(firstContent) || firstContent === NEWLINE || contentIndent <= indent) uncommon();
    const lines: string[] = [];
    let blanks = 0;
    let end = first;
    let line = first;
    while (line < text.length) {
      let i = line;
      while (text.charCodeAt(i) === SPACE) i++;
      const lineEnd = i >= text.length || text.charCodeAt(i) === NEWLINE;
      if (lineEnd) {
        if (i - line > contentIndent) uncommon();
        blanks++;
        line = i + 1;
        continue;
      }
      if (i - line < contentIndent) break;
      if (folded && i - line > contentIndent) uncommon();
      const newline = text.indexOf('\n', i);
      const stop = newline === -1 ? text.length : newline;
      for (; blanks > 0; blanks--) lines.push('');
      lines.push(text.slice(line + contentIndent, stop));
      end = newline === -1 ? text.length : newline + 1;
      line = end;
    }
    let value = folded ? fold(lines) : lines.join('\n');
    if (!strip) value += '\n';
    this.#record(path, depth, { start: at, end }, key);
    this.#pos = end;
    this.#end = end;
    if (this.#peek(this.#pos) && this.#indent > indent) uncommon();
    return value;
  }

  // ---- scalars ---------------------------------------------------------------------------

  /** A one-line quoted scalar starting at `at` (its quote): its value and its end (after the closing quote). */
  #quoted(at: number): { value: string; end: number } {
    const text = this.text;
    const quote = text.charCodeAt(at);
    let value = '';
    let from = at + 1;
    for (let i = from; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) break;
      if (quote === SINGLE_QUOTE) {
        if (c !== SINGLE_QUOTE) continue;
        value += text.slice(from, i);
        if (text.charCodeAt(i + 1) !== SINGLE_QUOTE) return { value, end: i + 1 };
        value += "'";
        from = i + 2;
        i++;
      } else if (c === DOUBLE_QUOTE) {
        return { value: value + text.slice(from, i), end: i + 1 };
      } else if (c === 92 /* backslash */) {
        const escaped = ESCAPES.get(text.charCodeAt(i + 1));
        if (escaped === undefined) break;
        value += text.slice(from, i) + escaped;
        from = i + 2;
        i++;
      }
    }
    return uncommon();
  }

  // ---- flow collections ------------------------------------------------------------------

  /**
   * A flow collection or scalar at `at` (its end goes into `#flowEnd`). Only the root may span
   * lines (a JSON document); elsewhere it must close on its line.
   */
  #flow(at: number, path: string, depth: number, key: Span | undefined, multiline: boolean): JsonValue {
    const text = this.text;
    const c = text.charCodeAt(at);
    if (c === OPEN_BRACKET) {
      const items: JsonValue[] = [];
      this.#record(path, depth, { start: at, end: at }, key);
      const close = this.#flowEntries(at, CLOSE_BRACKET, multiline, (i) => {
        items.push(this.#flow(i, childPathKey(path, items.length), depth + 1, undefined, multiline));
        return this.#flowEnd;
      });
      this.#close(path, { start: at, end: close + 1 }, key);
      this.#flowEnd = close + 1;
      return items;
    }
    if (c === OPEN_BRACE) {
      const out: Record<string, JsonValue> = {};
      this.#record(path, depth, { start: at, end: at }, key);
      const close = this.#flowEntries(at, CLOSE_BRACE, multiline, (keyAt) => {
        const colon = this.#key(keyAt, out, true, multiline);
        const name = this.#keyName;
        const keyEnd = this.#keyEnd;
        const i = this.#flowSpace(colon + 1, multiline);
        const v = text.charCodeAt(i);
        if (v === COMMA || v === CLOSE_BRACE) uncommon();
        out[name] = this.#flow(i, childPathKey(path, name), depth + 1, { start: keyAt, end: keyEnd }, multiline);
        return this.#flowEnd;
      });
      this.#close(path, { start: at, end: close + 1 }, key);
      this.#flowEnd = close + 1;
      return out;
    }
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
      const quoted = this.#quoted(at);
      this.#record(path, depth, { start: at, end: quoted.end }, key);
      this.#flowEnd = quoted.end;
      return quoted.value;
    }
    const end = this.#flowPlainEnd(at);
    this.#record(path, depth, { start: at, end }, key);
    this.#flowEnd = end;
    return resolvedPlain(text.slice(at, end));
  }

  /**
   * The entries of the flow collection opening at `at`, separated by commas (no empty entry, no
   * trailing comma), each read by `entry` from its first character to its end: where `close` is.
   */
  #flowEntries(at: number, close: number, multiline: boolean, entry: (at: number) => number): number {
    const text = this.text;
    let i = this.#flowSpace(at + 1, multiline);
    if (text.charCodeAt(i) === close) return i;
    for (;;) {
      i = this.#flowSpace(entry(i), multiline);
      const next = text.charCodeAt(i);
      if (next === close) return i;
      if (next !== COMMA) uncommon();
      i = this.#flowSpace(i + 1, multiline);
      if (text.charCodeAt(i) === close) uncommon();
    }
  }

  /** The end of the plain scalar at `at` inside a flow collection (trailing spaces excluded). */
  #flowPlainEnd(at: number): number {
    const text = this.text;
    if (!this.#plainStart(at)) uncommon();
    let end = at;
    for (; end < text.length; end++) {
      const ch = text.charCodeAt(end);
      if (ch === NEWLINE || ch === COMMA || ch === OPEN_BRACKET || ch === CLOSE_BRACKET) break;
      if (ch === OPEN_BRACE || ch === CLOSE_BRACE) break;
      if (ch === HASH && text.charCodeAt(end - 1) === SPACE) break;
      if (ch === COLON) {
        const next = text.charCodeAt(end + 1);
        if (end + 1 >= text.length || next === SPACE || next === NEWLINE || next === COMMA) break;
        if (next === OPEN_BRACKET || next === CLOSE_BRACKET || next === OPEN_BRACE || next === CLOSE_BRACE) break;
      }
    }
    while (text.charCodeAt(end - 1) === SPACE) end--;
    return end;
  }

  /** Skip spaces (and, in a multi-line flow collection, line ends and comments) from `at`. */
  #flowSpace(at: number, multiline: boolean): number {
    const text = this.text;
    let i = at;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === SPACE) i++;
      else if (multiline && c === NEWLINE) i++;
      else if (
        multiline &&
        c === HASH &&
        (i === 0 || text.charCodeAt(i - 1) === SPACE || text.charCodeAt(i - 1) === NEWLINE)
      ) {
        i = this.#afterLine(i);
      } else return i;
    }
  }
}
