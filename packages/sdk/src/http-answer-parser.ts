/** A complete HTTP/1.1 answer: status, body text, and whether the server closes the connection. */
export interface ParsedAnswer {
  readonly status: number;
  readonly text: string;
  readonly close: boolean;
}

/** What the status line and headers say. */
interface AnswerHead {
  readonly status: number;
  readonly close: boolean;
  readonly framing: number | 'chunked' | 'until-close';
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');

/**
 * Reads one HTTP/1.1 answer from the bytes of a connection, as they come: the status line, the
 * headers, then a body framed by `content-length`, by `transfer-encoding: chunked`, or by the end
 * of the connection (`end()`). Throws on a malformed answer or one larger than `maxBytes`.
 */
export class HttpAnswerParser {
  readonly #maxBytes: number;
  #buffered: Buffer = Buffer.alloc(0);
  #total = 0;
  #head: AnswerHead | undefined;
  readonly #body: Buffer[] = [];

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Add `chunk`; the answer once it is complete, else undefined. */
  push(chunk: Buffer): ParsedAnswer | undefined {
    this.#total += chunk.length;
    if (this.#total > this.#maxBytes) throw new Error(`the answer is larger than ${this.#maxBytes} bytes`);
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    if (this.#head === undefined) {
      const end = this.#buffered.indexOf(HEAD_END);
      if (end < 0) return undefined;
      this.#head = parseHead(this.#buffered.subarray(0, end).toString('latin1'));
      this.#buffered = this.#buffered.subarray(end + HEAD_END.length);
      // 1xx answers (100 Continue) come before the real one
      if (this.#head.status < 200) {
        this.#head = undefined;
        return this.push(Buffer.alloc(0));
      }
    }
    const { framing } = this.#head;
    if (framing === 'until-close') {
      this.#body.push(this.#buffered);
      this.#buffered = Buffer.alloc(0);
      return undefined;
    }
    if (framing === 'chunked') return this.#chunks();
    if (this.#buffered.length < framing) return undefined;
    this.#body.push(this.#buffered.subarray(0, framing));
    return this.#answer();
  }

  /** The connection ended: the answer, when its body was framed by that end. */
  end(): ParsedAnswer | undefined {
    return this.#head?.framing === 'until-close' ? this.#answer() : undefined;
  }

  #chunks(): ParsedAnswer | undefined {
    for (;;) {
      const lineEnd = this.#buffered.indexOf(LINE_END);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(this.#buffered.subarray(0, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
      if (!Number.isInteger(size) || size < 0) throw new Error('malformed chunked answer');
      if (size === 0) {
        // the last chunk: then an empty line, or trailers (rare) ending with one
        const rest = this.#buffered.subarray(lineEnd);
        return rest.indexOf(HEAD_END) < 0 ? undefined : this.#answer();
      }
      const start = lineEnd + LINE_END.length;
      if (this.#buffered.length < start + size + LINE_END.length) return undefined;
      this.#body.push(this.#buffered.subarray(start, start + size));
      this.#buffered = this.#buffered.subarray(start + size + LINE_END.length);
    }
  }

  #answer(): ParsedAnswer {
    const { status, close } = this.#head as AnswerHead;
    return { status, close, text: Buffer.concat(this.#body).toString('utf8') };
  }
}

function parseHead(text: string): AnswerHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
  if (match === null) throw new Error(`malformed answer: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const connection = headers.get('connection')?.toLowerCase();
  const close = connection === 'close' || (match[1] === '0' && connection !== 'keep-alive');
  const status = Number(match[2]);
  const length = headers.get('content-length');
  let framing: number | 'chunked' | 'until-close';
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) framing = 'chunked';
  else if (length !== undefined && /^\d+$/.test(length)) framing = Number(length);
  else if (status === 204 || status === 304) framing = 0;
  else framing = 'until-close';
  return { status, close: close || framing === 'until-close', framing };
}
