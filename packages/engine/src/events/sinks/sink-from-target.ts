import type { CloudEventsMode } from '../cloud-event.js';
import { consoleSink } from './console-sink.js';
import { fileSink } from './file-sink.js';
import { httpSink } from './http-sink.js';
import type { Sink } from './sink.js';

/**
 * A sink from a one-word target, as `pilotage run --events TARGET` takes it: `stdout` (or `-`)
 * is the console sink, an `http://`/`https://` URL an HTTP sink (binary mode unless `mode`),
 * anything else a JSONL file path.
 */
export function sinkFromTarget(target: string, options: { mode?: CloudEventsMode } = {}): Sink {
  if (target === 'stdout' || target === '-') return consoleSink();
  if (/^https?:\/\//i.test(target)) return httpSink({ url: target, ...options });
  return fileSink({ path: target });
}
