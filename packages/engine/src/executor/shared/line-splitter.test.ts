import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from './line-splitter.js';

function split(chunks: Array<string | Buffer>, max?: number): string[] {
  const splitter = new LineSplitter(max);
  const lines: string[] = [];
  for (const chunk of chunks) lines.push(...splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  lines.push(...splitter.end());
  return lines;
}

describe('LineSplitter', () => {
  const cases: Array<[string, Array<string | Buffer>, string[], number?]> = [
    ['one line', ['a\n'], ['a']],
    ['several in one chunk', ['a\nb\nc\n'], ['a', 'b', 'c']],
    ['partial chunks', ['he', 'llo\nwor', 'ld\n'], ['hello', 'world']],
    ['CRLF', ['a\r\nb\r', '\nc\n'], ['a', 'b', 'c']],
    ['a lone CR stays', ['a\rb\n'], ['a\rb']],
    ['empty lines kept', ['\n\na\n'], ['', '', 'a']],
    ['last partial line flushed', ['a\nlast'], ['a', 'last']],
    ['last partial line with CR', ['a\r'], ['a']],
    ['nothing', [], []],
    ['only a newline', ['\n'], ['']],
    ['UTF-8 split across chunks', [Buffer.from([0xe2, 0x82]), Buffer.from([0xac, 0x0a])], ['€']],
    ['long line cut into pieces', ['abcdefghij\n'], ['abcd', 'efgh', 'ij'], 4],
    ['long line over chunks', ['abc', 'def', 'ghi', 'j\n'], ['abcd', 'efgh', 'ij'], 4],
    ['exactly the limit', ['abcd\n', 'efgh\r\n'], ['abcd', 'efgh'], 4],
    ['limit then CRLF across chunks', ['abcd\r', '\n'], ['abcd'], 4],
    ['never splits a character', ['a€€\n'], ['a€', '€'], 4],
  ];
  for (const [name, chunks, expected, max] of cases) {
    test(name, () => assert.deepEqual(split(chunks, max), expected));
  }

  test('memory stays bounded on a huge line without newline', () => {
    const splitter = new LineSplitter(1024);
    let delivered = 0;
    for (let i = 0; i < 100; i++) {
      for (const line of splitter.push(Buffer.alloc(1000, 0x61))) {
        assert.ok(line.length <= 1024);
        delivered += line.length;
      }
    }
    for (const line of splitter.end()) delivered += line.length;
    assert.equal(delivered, 100_000);
  });
});
