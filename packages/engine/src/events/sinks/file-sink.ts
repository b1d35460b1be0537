import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { OutboxRecord } from '../../store/types.js';
import { typeFilter } from '../type-pattern.js';
import { SinkError, type Sink } from './sink.js';

/** Options of a file sink. */
export interface FileSinkOptions {
  /** the JSONL file; created when missing, appended to otherwise */
  readonly path: string;
  /** default `file:<absolute path>` */
  readonly name?: string;
  /** type patterns this sink accepts; default all */
  readonly types?: readonly string[];
}

/**
 * A sink that appends each event (the CDEvent document) as one JSON line to a file, and flushes
 * it to disk before reporting success, so a delivered event survives a crash.
 */
export function fileSink(options: FileSinkOptions): Sink {
  const path = resolve(options.path);
  const name = options.name ?? `file:${path}`;
  return {
    name,
    accepts: typeFilter(options.types),
    async send(event: OutboxRecord): Promise<void> {
      try {
        const handle = await open(path, 'a');
        try {
          await handle.appendFile(JSON.stringify(event.payload) + '\n', 'utf8');
          await handle.datasync();
        } finally {
          await handle.close();
        }
      } catch (cause) {
        throw new SinkError(name, `appending to ${path} failed: ${String(cause)}`, { cause });
      }
    },
  };
}
