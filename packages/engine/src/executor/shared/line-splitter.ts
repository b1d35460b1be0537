/** Longest line delivered, bytes of UTF-8; longer lines are cut into pieces of at most this. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines: `\n` and `\r\n` end a line (the terminator is dropped),
 * chunks may end anywhere (even inside a UTF-8 character), and a line longer than
 * `maxLineBytes` is delivered in pieces cut at character boundaries, so memory stays bounded.
 * `end()` flushes the last unterminated line. Pure (no I/O).
 */
export class LineSplitter {
  readonly #max: number;
  #pending: Buffer[] = [];
  #size = 0;

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    this.#max = maxLineBytes;
  }

  /** Feed a chunk; returns the lines it completed, in order. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      this.#append(chunk.subarray(start, nl));
      let line = this.#take();
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
      this.#emit(line, lines);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#append(chunk.subarray(start));
      // Keep one byte beyond the limit: it may be the `\r` of a `\r\n` still to come.
      if (this.#size > this.#max + 1) {
        let buffer = this.#take();
        while (buffer.length > this.#max + 1) {
          const cut = cutAt(buffer, this.#max);
          lines.push(buffer.subarray(0, cut).toString('utf8'));
          buffer = buffer.subarray(cut);
        }
        this.#append(buffer);
      }
    }
    return lines;
  }

  /** The last unterminated line, if any (call once, at the end of the stream). */
  end(): string[] {
    const lines: string[] = [];
    if (this.#size === 0) return lines;
    let line = this.#take();
    if (line[line.length - 1] === CR) line = line.subarray(0, -1);
    this.#emit(line, lines);
    return lines;
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    this.#pending.push(part);
    this.#size += part.length;
  }

  #take(): Buffer {
    const buffer = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending, this.#size);
    this.#pending = [];
    this.#size = 0;
    return buffer;
  }

  /** Push `buffer` as one line, or as pieces of at most `max` bytes. */
  #emit(buffer: Buffer, into: string[]): void {
    let rest = buffer;
    while (rest.length > this.#max) {
      const cut = cutAt(rest, this.#max);
      into.push(rest.subarray(0, cut).toString('utf8'));
      rest = rest.subarray(cut);
    }
    into.push(rest.toString('utf8'));
  }
}

/** `at`, moved back so as not to split a UTF-8 character (unless that would leave nothing). */
function cutAt(buffer: Buffer, at: number): number {
  let cut = Math.min(at, buffer.length);
  while (cut > 0 && cut < buffer.length && ((buffer[cut] as number) & 0xc0) === 0x80) cut--;
  return cut === 0 ? Math.min(at, buffer.length) : cut;
}
