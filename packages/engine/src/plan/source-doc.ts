import type { Alias, Document, Node } from 'yaml';
import type { Issue } from '../domain/issue.js';
import {
  depthMessage,
  FORBIDDEN_KEYS,
  forbiddenKeyMessage,
  jsonTextTooDeep,
  MAX_JSON_DEPTH,
} from '../domain/json-text.js';
import type { JsonValue } from '../domain/vocabulary.js';
import { readCommonYaml } from './common-yaml.js';
import { formatPath, pathKey, type FieldPath } from './field-path.js';
import { yamlParser } from './on-first-use.js';
import type { Location, Span } from './source-span.js';

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

// Alias expansion can multiply a small file into a huge tree ("billion laughs"); a workflow never
// needs anywhere near this many values.
const MAX_VALUES = 200_000;

/**
 * A parsed YAML (or JSON) file: the text, and where each value and key of the converted JSON
 * tree was written. Positions are looked up by field path, so the checks that follow can work
 * on plain JSON and still point at the exact line and column.
 */
export class SourceDoc {
  readonly file: string;
  readonly text: string;
  readonly #locations: Map<string, Location>;
  /** where each line starts, found the first time a position is asked for */
  #lineStarts: number[] | undefined;

  constructor(file: string, text: string, locations: Map<string, Location>) {
    this.file = file;
    this.text = text;
    this.#locations = locations;
  }

  /**
   * Where the value (or, with `onKey`, the key) at `path` starts. A path with no recorded
   * location (a key that is missing) falls back to its nearest recorded ancestor.
   */
  position(path: FieldPath, onKey = false): Position {
    for (let depth = path.length; depth >= 0; depth--) {
      const location = this.#locations.get(pathKey(path.slice(0, depth)));
      if (location === undefined) continue;
      const span = onKey && depth === path.length && location.key ? location.key : location.value;
      return this.positionAt(span.start);
    }
    return { line: 1, column: 1 };
  }

  /** Line and column of a character offset. */
  positionAt(offset: number): Position {
    const starts = (this.#lineStarts ??= lineStarts(this.text));
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  }

  /** The span of the value at `path`, if it was written in the file. */
  valueSpan(path: FieldPath): Span | undefined {
    return this.#locations.get(pathKey(path))?.value;
  }

  /** An issue at the value (or key) at `path`, or at an explicit character offset. */
  issue(path: FieldPath, message: string, where: { onKey?: boolean; offset?: number } = {}): Issue {
    const position = where.offset === undefined ? this.position(path, where.onKey) : this.positionAt(where.offset);
    return { file: this.file, line: position.line, column: position.column, path: formatPath(path), message };
  }
}

/** The JSON tree of a file, where it came from, and the problems found while reading it. */
export interface ParsedSource {
  /** the converted tree; `undefined` when the text is not readable YAML at all */
  readonly value: JsonValue | undefined;
  readonly source: SourceDoc;
  /** syntax errors, duplicate keys, values JSON cannot hold */
  readonly issues: readonly Issue[];
}

/**
 * Read YAML 1.2 (JSON is a subset) into JSON, recording positions. Every syntax error,
 * duplicate key, non-string key, `__proto__`/`constructor`/`prototype` key and non-JSON value
 * (`.inf`, binary) becomes an issue; anchors and aliases are expanded. A file with several
 * documents is an error.
 */
export function parseSource(text: string, file: string): ParsedSource {
  // the YAML parser recurses per level of nesting: refuse what would only overflow its stack
  if (jsonTextTooDeep(text)) {
    const source = new SourceDoc(file, text, new Map());
    return {
      value: undefined,
      source,
      issues: [{ file, line: 1, column: 1, path: '', message: `the file ${depthMessage()}` }],
    };
  }
  // the common case, read 5–9x faster; anything else (and every problem) goes to the full parser
  const common = readCommonYaml(text, MAX_VALUES);
  if (common !== undefined)
    return { value: common.value, source: new SourceDoc(file, text, common.locations), issues: [] };
  return parseWithYamlLibrary(text, file);
}

/**
 * `parseSource` with the full YAML parser only: what plan/common-yaml.ts must agree with. (Not
 * depth-checked: call `parseSource`.)
 */
export function parseWithYamlLibrary(text: string, file: string): ParsedSource {
  const doc = yamlParser().parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  const locations = new Map<string, Location>();
  const source = new SourceDoc(file, text, locations);
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const problem of [...doc.errors, ...doc.warnings]) {
    const position = source.positionAt(problem.pos[0]);
    const message = /Maximum call stack/.test(problem.message)
      ? `the file ${depthMessage()}`
      : problem.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, '');
    const issue = { file, line: position.line, column: position.column, path: '', message: `invalid YAML: ${message}` };
    // one broken bracket makes the parser repeat itself: report each message once per place
    const key = JSON.stringify(issue);
    if (!seen.has(key)) issues.push(issue);
    seen.add(key);
  }
  if (issues.length > 0) return { value: undefined, source, issues };
  const converter = new Converter(doc, source, locations, issues);
  const value = doc.contents === null ? null : converter.convert(doc.contents, [], undefined);
  return { value, source, issues };
}

class Converter {
  #count = 0;
  /** the collections being converted, outermost first: an alias to one of them is a cycle */
  readonly #ancestors: Node[] = [];
  /**
   * Each alias's anchored node, looked up once: the YAML library walks the whole document for
   * every lookup, and an alias inside an anchored block is met again at each expansion (an alias
   * bomb: seconds of walks before the value cap stopped it).
   */
  readonly #targets = new Map<Alias, Node | undefined>();
  /** the YAML library's node tests (it is loaded by now: it parsed the document) */
  readonly #yaml = yamlParser();

  constructor(
    private readonly doc: Document,
    private readonly source: SourceDoc,
    private readonly locations: Map<string, Location>,
    private readonly issues: Issue[],
  ) {}

  convert(node: Node, path: FieldPath, key: Span | undefined): JsonValue {
    const value = spanOf(node);
    this.locations.set(pathKey(path), key ? { value, key } : { value });
    if (++this.#count > MAX_VALUES) {
      if (this.#count === MAX_VALUES + 1) this.report(path, `the file holds more than ${MAX_VALUES} values`);
      return null;
    }
    if (path.length > MAX_JSON_DEPTH) {
      this.report(path.slice(0, MAX_JSON_DEPTH), `the file ${depthMessage()}`);
      return null;
    }
    const { isAlias, isMap, isScalar, isSeq } = this.#yaml;
    if (isAlias(node)) return this.convertAlias(node, path, key);
    if (isScalar(node)) return this.convertScalar(node.value, path);
    if (!isSeq(node) && !isMap(node)) {
      this.report(path, 'unsupported YAML node');
      return null;
    }
    this.#ancestors.push(node);
    try {
      if (isMap(node)) return this.convertMap(node.items, path);
      return node.items.map((item, index) =>
        item === null ? null : this.convert(item as Node, [...path, index], undefined),
      );
    } finally {
      this.#ancestors.pop();
    }
  }

  private convertAlias(node: Alias, path: FieldPath, key: Span | undefined): JsonValue {
    if (!this.#targets.has(node)) this.#targets.set(node, node.resolve(this.doc) as Node | undefined);
    const target = this.#targets.get(node);
    if (target === undefined || this.#ancestors.includes(target)) {
      this.report(path, 'alias refers to an unknown or enclosing anchor');
      return null;
    }
    const result = this.convert(target, path, key);
    // the alias itself is where the value was written, not the anchor
    this.locations.set(pathKey(path), key ? { value: spanOf(node), key } : { value: spanOf(node) });
    return result;
  }

  private convertScalar(value: unknown, path: FieldPath): JsonValue {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
      this.report(path, `${String(value)} is not a JSON number`);
      return null;
    }
    this.report(path, 'unsupported value: only strings, numbers, booleans and null are allowed');
    return null;
  }

  private convertMap(items: readonly { key: unknown; value: unknown }[], path: FieldPath): JsonValue {
    const out: Record<string, JsonValue> = {};
    const firstLine = new Map<string, number>();
    for (const pair of items) {
      const keyNode = pair.key as Node | null;
      const name = this.keyName(keyNode, path);
      if (name === undefined) continue;
      const keySpan = keyNode ? spanOf(keyNode) : spanOf(pair.value as Node);
      const childPath = [...path, name];
      const seenAt = firstLine.get(name);
      const problem = FORBIDDEN_KEYS.has(name)
        ? forbiddenKeyMessage(name)
        : seenAt === undefined
          ? undefined
          : `duplicate key "${name}" (first defined at line ${seenAt})`;
      if (problem !== undefined) {
        this.issues.push(this.source.issue(childPath, problem, { offset: keySpan.start }));
        continue;
      }
      firstLine.set(name, this.source.positionAt(keySpan.start).line);
      const valueNode = pair.value as Node | null;
      if (valueNode === null) {
        this.locations.set(pathKey(childPath), { value: { start: keySpan.end, end: keySpan.end }, key: keySpan });
        out[name] = null;
      } else {
        out[name] = this.convert(valueNode, childPath, keySpan);
      }
    }
    return out;
  }

  private keyName(keyNode: Node | null, path: FieldPath): string | undefined {
    if (keyNode === null) return '';
    if (this.#yaml.isScalar(keyNode)) {
      if (typeof keyNode.value === 'string') return keyNode.value;
      // `1.10: x` must stay "1.10", not "1.1": use the text as written for non-string keys
      return typeof keyNode.source === 'string' ? keyNode.source : String(keyNode.value);
    }
    const position = this.source.positionAt(spanOf(keyNode).start);
    this.issues.push({
      file: this.source.file,
      line: position.line,
      column: position.column,
      path: formatPath(path),
      message: 'keys must be plain strings, not lists or mappings',
    });
    return undefined;
  }

  private report(path: FieldPath, message: string): void {
    this.issues.push(this.source.issue(path, message));
  }
}

function spanOf(node: Node): Span {
  const range = node.range;
  return range ? { start: range[0], end: range[1] } : { start: 0, end: 0 };
}

/** The offset where each line of `text` starts (YAML 1.2 ends lines at `\n`, or `\r\n`). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts;
}
