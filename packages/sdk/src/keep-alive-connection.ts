import type * as Net from 'node:net';
import type { Socket } from 'node:net';
import { HttpAnswerParser } from './http-answer-parser.js';

/** An HTTP answer: status and body text. */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/** The engine's answer takes at most this many bytes (headers and body): a guard, not a limit in use. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** `node:net`, loaded with the first connection (a component in dev mode never needs it) */
let net: Promise<typeof Net> | undefined;

/**
 * HTTP/1.1 requests to one `host:port` over one kept-alive TCP connection, one request at a time
 * (calls made together wait in order; no pipelining). The socket is unreferenced while idle, so it
 * never keeps the process alive, and replaced when the server closed it (an idle timeout). A
 * request on a reused socket that fails before any byte of the answer came (the server closed it
 * as we wrote) is sent once more on a new connection: the server had read nothing of it.
 */
export class KeepAliveConnection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  /** the previous request's end: the next one waits for it */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  request(
    method: 'GET' | 'POST',
    path: string,
    hostHeader: string,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    const head = [
      `${method} ${path} HTTP/1.1`,
      `host: ${hostHeader}`,
      'accept: application/json',
      'connection: keep-alive',
    ];
    if (body !== undefined) head.push('content-type: application/json', `content-length: ${Buffer.byteLength(body)}`);
    const bytes = `${head.join('\r\n')}\r\n\r\n${body ?? ''}`;
    const call = this.#turn.then(
      () => this.#send(bytes, timeoutMs),
      () => this.#send(bytes, timeoutMs),
    );
    this.#turn = call.catch(() => undefined);
    return call;
  }

  async #send(bytes: string, timeoutMs: number): Promise<HttpAnswer> {
    const reused = this.#socket !== undefined;
    const socket = this.#socket ?? (await this.#connect());
    try {
      return await exchange(socket, bytes, timeoutMs);
    } catch (error) {
      this.#drop(socket);
      if (reused && error instanceof NothingAnswered) return exchange(await this.#connect(), bytes, timeoutMs);
      throw error instanceof NothingAnswered ? error.cause : error;
    }
  }

  async #connect(): Promise<Socket> {
    const { connect } = await (net ??= import('node:net'));
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    socket.unref();
    // an idle socket the server closes is forgotten; errors are told to the request using it
    socket.on('error', () => undefined);
    socket.once('close', () => this.#drop(socket));
    this.#socket = socket;
    return socket;
  }

  #drop(socket: Socket): void {
    if (this.#socket === socket) this.#socket = undefined;
    socket.destroy();
  }
}

/** A request failed before any byte of its answer arrived (`cause` says how). */
class NothingAnswered extends Error {}

/** Write one request on `socket` and read its answer; the socket is referenced only meanwhile. */
function exchange(socket: Socket, bytes: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const parser = new HttpAnswerParser(MAX_ANSWER_BYTES);
    let received = false;
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      received = true;
      let answer: ReturnType<HttpAnswerParser['push']>;
      try {
        answer = parser.push(chunk);
      } catch (error) {
        fail(error as Error);
        return;
      }
      if (answer === undefined) return;
      done();
      if (answer.close) socket.destroy();
      resolve({ status: answer.status, text: answer.text });
    };
    const onEnd = (): void => {
      // an answer without a length ends with the connection
      const answer = parser.end();
      if (answer !== undefined) {
        done();
        socket.destroy();
        resolve({ status: answer.status, text: answer.text });
      } else {
        fail(new Error('the connection closed before the answer was complete'));
      }
    };
    const onError = (error: Error): void => fail(error);
    const onClose = (): void => fail(new Error('the connection closed before the answer was complete'));
    function done(): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.unref();
    }
    function fail(error: Error): void {
      done();
      socket.destroy();
      reject(received ? error : new NothingAnswered(error.message, { cause: error }));
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.ref();
    socket.write(bytes);
  });
}
