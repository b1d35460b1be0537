import type { Writable } from 'node:stream';
import type { OutboxRecord } from '../../store/types.js';
import { typeFilter } from '../type-pattern.js';
import { SinkError, type Sink } from './sink.js';

/** Options of a console sink. */
export interface ConsoleSinkOptions {
  /** default `process.stdout` */
  readonly stream?: Writable;
  /** default `console` */
  readonly name?: string;
  /** type patterns this sink accepts; default all */
  readonly types?: readonly string[];
}

/** Write one line: resolve when the stream took it, reject on a stream error. */
export function writeLine(stream: Writable, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(line + '\n', (error) => (error ? reject(error) : resolve()));
  });
}

/** A sink that writes each event (the CDEvent document) as one JSON line to a stream. */
export function consoleSink(options: ConsoleSinkOptions = {}): Sink {
  const name = options.name ?? 'console';
  return {
    name,
    accepts: typeFilter(options.types),
    async send(event: OutboxRecord): Promise<void> {
      const stream = options.stream ?? process.stdout;
      try {
        await writeLine(stream, JSON.stringify(event.payload));
      } catch (cause) {
        throw new SinkError(name, `writing to the console failed: ${String(cause)}`, { cause });
      }
    },
  };
}
