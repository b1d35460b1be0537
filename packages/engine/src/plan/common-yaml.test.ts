import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCommonYaml } from './common-yaml.js';
import type { FieldPath } from './field-path.js';
import { parseWithYamlLibrary, type ParsedSource } from './source-doc.js';

const MAX_VALUES = 200_000;

/**
 * What `readCommonYaml` answers must be what the full parser answers: the same value, and for
 * every value the same start (and a scalar's end) and the same key position. `undefined` when
 * the reader leaves the text to the parser.
 */
function differences(text: string): string[] | undefined {
  const common = readCommonYaml(text, MAX_VALUES);
  if (common === undefined) return undefined;
  const full = parseWithYamlLibrary(text, 'f.yaml');
  if (full.issues.length > 0) return [`the parser reports ${JSON.stringify(full.issues)}`];
  if (JSON.stringify(common.value) !== JSON.stringify(full.value)) {
    return [`value ${JSON.stringify(common.value)}, the parser's ${JSON.stringify(full.value)}`];
  }
  const problems: string[] = [];
  const locations = common.locations;
  if (locations.size !== countValues(full.value)) problems.push(`${locations.size} locations`);
  const walk = (value: unknown, path: FieldPath): void => {
    const key = JSON.stringify(path);
    const mine = locations.get(key);
    const theirs = full.source.valueSpan(path);
    // a block collection's end is the one thing allowed to differ (see common-yaml.ts)
    const collection = value !== null && typeof value === 'object';
    if (mine?.value.start !== theirs?.start || (!collection && mine?.value.end !== theirs?.end)) {
      problems.push(`${key}: span ${JSON.stringify(mine?.value)}, the parser's ${JSON.stringify(theirs)}`);
    }
    if (mine?.key !== undefined) {
      const keyAt = full.source.position(path, true);
      const mineAt = full.source.positionAt(mine.key.start);
      if (keyAt.line !== mineAt.line || keyAt.column !== mineAt.column)
        problems.push(`${key}: key at ${mine.key.start}`);
    }
    if (value !== null && typeof value === 'object') {
      for (const [name, child] of Object.entries(value))
        walk(child, [...path, Array.isArray(value) ? Number(name) : name]);
    }
  };
  walk(common.value, []);
  return problems;
}

function countValues(value: ParsedSource['value']): number {
  if (value === null || typeof value !== 'object') return 1;
  return 1 + Object.values(value).reduce<number>((sum, child) => sum + countValues(child), 0);
}

function assertSame(text: string): boolean {
  const problems = differences(text);
  if (problems !== undefined) assert.deepEqual(problems, [], `for: ${JSON.stringify(text)}`);
  return problems !== undefined;
}

/**
 * A seeded generator of YAML documents, common and not: every construct the reader knows, and
 * its neighbours; with `common`, mostly what the reader reads itself.
 */
function generator(seed: number, common: boolean): () => string {
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const commonKeys = [
    'name',
    'run',
    'a.b',
    'with-dash',
    '1.10',
    'true',
    'null',
    '~',
    'a#b',
    '"quoted key"',
    "'single'",
    'k  ',
    '"e\\"s"',
    'ü',
    'on',
    '0x1F',
    'a[0]',
    'a,b',
    'x]',
    'k{',
  ];
  const uncommonKeys = ['__proto__', 'x: y', '? q', '&anchor k', '"multi\nline"', '[a]', '-', '- a'];
  const commonScalars = [
    'x',
    'hello world',
    '1',
    '-1',
    '+5',
    '-0',
    '007',
    '1.10',
    '0o17',
    '0x1F',
    '1e3',
    '.5',
    '1.',
    '1_000',
    '0b1',
    'true',
    'False',
    'TRUE',
    'yes',
    'null',
    'NULL',
    '~',
    'echo a:b',
    'a # comment',
    'a#b',
    '${{ inputs.x }}',
    '--flag',
    '"double \\" \\\\ \\n \\t \\/ \\e \\ "',
    "'it''s'",
    "'a \" b'",
    '""',
    "''",
    '[a, b]',
    '[ 1 , "two" , [3] ]',
    '{ a: 1, b: [x, "y"] }',
    '{}',
    '[]',
    '{ "k":1 }',
    '{ v: "${{ x }}" }',
    '[a b, c]',
    '"a" # c',
    'x # c # d',
    'é ü',
    '{ a: [1, {b: c}], d: e }',
    '[{a: b}, {c: d}]',
    'a:b:c',
    'http://x.y/z',
    '[a:b, "c":d]',
    '{ a : b }',
    '[ ]',
    '-.5',
    '1e-3',
    '+.5e+3',
    'echo "hi" there',
    "it's",
    'a, b',
    'x]',
    'a}',
    "'a' b",
    '"a" b',
    '[a]b',
    'a [b]',
    '- x',
    '-x',
    '{a: [b, {c: d}]}',
    '[[], {}]',
    '"\\u0041"',
    'x\\y',
  ];
  const keys = [...commonKeys, ...uncommonKeys];
  const uncommonScalars = [
    '.inf',
    '-.Inf',
    '.nan',
    '-',
    'a: b',
    'x:',
    '"double \\" \\\\ \\n \\t \\/ \\e"',
    '"\\u00e9"',
    '"\\x41"',
    '{ a: }',
    '[a, ]',
    '{a:1}',
    '[a: b]',
    '*alias',
    '!tag x',
    '&anchor x',
    '@at',
    '`tick`',
    '%p',
    'a  ',
    '"unclosed',
    '"a"#c',
    '|',
    '>',
  ];
  const scalars = [...commonScalars, ...uncommonScalars];
  const blockHeaders = ['|', '|-', '>', '>-', '|+', '>+', '|2', '| # c', '|-  # c', '|#'];
  const comment = (): string => (random() < 0.15 ? pick(['  # c', ' #c', '#c', '   ']) : '');
  const blank = (): string =>
    random() < 0.1 ? pick(['\n', '\n\n', '  \n', '# note\n', '    # deep\n', '\n# c\n']) : '';
  const step = (): number => pick([2, 2, 2, 4, 3, 1]);
  let serial = 0;
  // in common documents, keys are unique: a serial number inside the name (or its quotes)
  const unique = (name: string): string => name.replace(/^(["']?)(.*?)(["']?)$/, `$1$2${serial++}$3`);
  const key = (): string => (common ? (random() < 0.02 ? pick(uncommonKeys) : unique(pick(commonKeys))) : pick(keys));
  const scalar = (): string => (common && random() < 0.97 ? pick(commonScalars) : pick(scalars));
  const blockScalar = (indent: number): string => {
    const inner = indent + step();
    const lines = [];
    const count = 1 + Math.floor(random() * 4);
    for (let i = 0; i < count; i++) {
      lines.push(
        pick(
          common && random() < 0.8
            ? [`${' '.repeat(inner)}line ${i} # not a comment`, '', `${' '.repeat(inner)}- x`]
            : [
                `${' '.repeat(inner)}line ${i} # not a comment`,
                `${' '.repeat(inner)}x`,
                '',
                ' '.repeat(inner),
                ' '.repeat(inner + 2),
                `${' '.repeat(inner + 2)}deeper`,
                `${' '.repeat(Math.max(0, inner - 1))}shallower`,
                `${' '.repeat(inner)}- item`,
              ],
        ),
      );
    }
    if (lines.every((line) => line.trim() === '')) lines.push(`${' '.repeat(inner)}x`);
    const header = common && random() < 0.9 ? pick(['|', '|-', '>', '>-', '| # c']) : pick(blockHeaders);
    return `${header}\n${lines.join('\n')}\n${random() < 0.3 ? '\n' : ''}`;
  };
  const node = (indent: number, depth: number): string => {
    const r = random();
    if (depth > 3 || r < 0.45) return ` ${scalar()}${comment()}\n`;
    if (r < 0.55) return ` ${blockScalar(indent)}`;
    if (r < 0.6) return `${comment()}\n`; // null
    const inner = indent + step();
    if (r < 0.8) return `${comment()}\n${blank()}${mapping(inner, depth + 1)}`;
    // a sequence under a key, sometimes at the key's own column
    return `${comment()}\n${blank()}${sequence(random() < 0.3 ? indent : inner, depth + 1)}`;
  };
  const mapping = (indent: number, depth: number, first = ''): string => {
    let out = '';
    const count = 1 + Math.floor(random() * 4);
    for (let i = 0; i < count; i++) {
      const lead = i === 0 && first !== '' ? first : ' '.repeat(indent);
      out += `${lead}${key()}${random() < (common ? 0.005 : 0.05) ? '' : ':'}${node(indent, depth)}${blank()}`;
    }
    return out;
  };
  const sequence = (indent: number, depth: number): string => {
    let out = '';
    const count = 1 + Math.floor(random() * 4);
    for (let i = 0; i < count; i++) {
      const dash = `${' '.repeat(indent)}-`;
      const r = random();
      if (depth > 3 || r < 0.4) out += `${dash} ${scalar()}${comment()}\n`;
      else if (r < 0.75) out += mapping(indent + 2, depth + 1, `${dash} `);
      else if (r < 0.8) out += `${dash} ${blockScalar(indent)}`;
      else if (r < 0.85) out += common ? `${dash} ${scalar()}\n` : `${dash}${comment()}\n`;
      else if (r < 0.9) out += common ? `${dash} ${scalar()}\n` : `${dash} - ${pick(scalars)}\n`;
      else out += `${dash}${comment()}\n${sequence(indent + step(), depth + 1)}`;
      out += blank();
    }
    return out;
  };
  return () => {
    const r = random();
    const lead = random() < 0.2 ? pick(['# head\n', '\n', '---\n', '%YAML 1.2\n---\n']) : '';
    if (r < 0.1) return `${lead}${pick(scalars)}\n`;
    if (r < 0.25) return `${lead}${sequence(0, 0)}`;
    return `${lead}${mapping(0, 0)}${random() < 0.05 ? '...\n' : ''}`;
  };
}

describe('readCommonYaml', () => {
  test('reads a typical workflow itself, exactly as the full parser does', () => {
    const text = [
      '# a workflow',
      'apiVersion: pilotage.dev/v1',
      'kind: Workflow',
      'name: build',
      'version: 1.10',
      'inputs: { type: object, properties: { repo: { type: string } } }',
      '',
      'stages:',
      '  - name: test',
      '    actions:',
      '      - name: unit',
      '        run: |',
      '          npm ci',
      '          npm test # not a comment',
      '        with:',
      '          repo: "${{ inputs.repo }}"',
      "          note: 'it''s'",
      '        retries: 2',
      '        if:',
      '- loose: true',
    ].join('\n');
    assert.equal(readCommonYaml(text, MAX_VALUES), undefined, 'a sequence after a mapping is not YAML');
    const good = text.replace('\n- loose: true', '\n');
    const common = readCommonYaml(good, MAX_VALUES);
    assert.notEqual(common, undefined);
    assert.deepEqual(
      (common!.value as { stages: { actions: { run: string }[] }[] }).stages[0]!.actions[0]!.run,
      'npm ci\nnpm test # not a comment\n',
    );
    assertSame(good);
  });

  test('reads every kind of scalar itself: null, booleans, numbers, strings, quoted and escaped', () => {
    const text = [
      'nothing: null',
      'tilde: ~',
      'empty:',
      'yes: true',
      'no: False',
      'int: -12',
      'octal: 0o17',
      'hex: 0x1F',
      'float: 1.10',
      'exp: 1e-3',
      'string: yes',
      'number-like: 1_000',
      'double: "a \\"b\\" \\n \\/"',
      "single: 'it''s'",
      'flow: [null, ~, true, 0x1F, "x", {k: 1.5}]',
    ].join('\n');
    const common = readCommonYaml(text, MAX_VALUES);
    assert.notEqual(common, undefined);
    assert.deepEqual(common!.value, {
      nothing: null,
      tilde: null,
      empty: null,
      yes: true,
      no: false,
      int: -12,
      octal: 15,
      hex: 31,
      float: 1.1,
      exp: 0.001,
      string: 'yes',
      'number-like': '1_000',
      double: 'a "b" \n /',
      single: "it's",
      flow: [null, null, true, 31, 'x', { k: 1.5 }],
    });
    assertSame(text);
  });

  test('leaves to the full parser what it does not read itself', () => {
    for (const text of [
      '',
      '# only a comment\n',
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      '? a\n: b\n',
      'a: b\n  c\n',
      'a: "b\n  c"\n',
      'a:\tb\n',
      'a: b\r\n',
      '---\na: 1\n---\nb: 2\n',
      '--- a: 1\n',
      '---\n',
      'a: 1\n...\n',
      'a: 1\na: 2\n',
      '__proto__: 1\n',
      'a: .inf\n',
      'a: "\\x41"\n',
      'a: |+\n  x\n',
      'a: |2\n   x\n',
      'a: >\n  x\n    more indented\n',
      'just a scalar\n',
      'a: [1,\n  2]\n',
      'a: b: c\n',
      `${'k'.repeat(1001)}: 1\n`,
    ]) {
      assert.equal(readCommonYaml(text, MAX_VALUES), undefined, JSON.stringify(text));
    }
  });

  test('reads a document that starts with a `---` line', () => {
    for (const text of ['---\na: 1\n', '# head\n--- # the start\n\nlist:\n  - x\n']) {
      assert.notEqual(readCommonYaml(text, MAX_VALUES), undefined, text);
      assertSame(text);
    }
  });

  test('leaves a file with more values than the cap to the full parser', () => {
    const text = `list: [${Array.from({ length: 20 }, (_, i) => i).join(', ')}]\n`;
    // the mapping, the list and its 20 numbers
    assert.notEqual(readCommonYaml(text, 22), undefined);
    assert.equal(readCommonYaml(text, 21), undefined);
  });

  test('answers as the full parser on every YAML file of the repository', () => {
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(ya?ml|json)$/.test(entry.name) && !entry.name.startsWith('package')) files.push(path);
      }
    };
    walk(root);
    let read = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      if (text.length > 2_000_000) continue;
      if (assertSame(text)) read++;
    }
    assert.ok(files.length > 100, `${files.length} files`);
    // most are common YAML: the reader must read them itself, not hand them all over
    assert.ok(read > files.length * 0.8, `read ${read} of ${files.length}`);
  });

  for (const common of [false, true]) {
    test(`answers as the full parser on 5,000 generated documents (${common ? 'mostly common' : 'any'} YAML)`, () => {
      const next = generator(common ? 20261206 : 1206, common);
      let read = 0;
      for (let i = 0; i < 5000; i++) if (assertSame(next())) read++;
      // documents with anything uncommon are handed over: still, many must be read by the reader
      assert.ok(read > (common ? 1000 : 500), `read ${read} of 5000`);
    });
  }
});
